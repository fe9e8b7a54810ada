"""The round-robin (#25 item 3): a 工单 entering a step's pool goes to the next available agent of that step
with room, on the server; one nobody has room for waits in the pool until someone frees up.

``place`` asks the step's cursor for a turn (an atomic counter: parallel placements get different turns),
then tries the step's available agents from that turn on, each as one transaction: the case, conditioned on the
version read, with the agent's ``load + 1`` conditioned on ``load < capacity AND status = available``
(``agent_loads.moves``). A full agent (the condition lost) → the next one; the case moved meanwhile → read
again (assigned by someone else: done). ``pull`` walks a step's queue for waiting 工单 when an agent has room.
Both are given ``commit`` (``casework.commit``) so this module does not import the use-case layer.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from chalicelib.escalation import agent_loads, model, repository
from chalicelib.escalation import steps as step_defs
from chalicelib.escalation.agent_model import Agent, turn_order
from chalicelib.escalation.model import Case
from chalicelib.escalation.store import ElementFailed, VersionConflict
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger

Commit = Callable[..., Case]
POOL_SCAN = 200   # queue entries a pull reads per step at most (open cases only; a Query, never a Scan)


def waiting(case: Case | None) -> bool:
    return case is not None and case.status == "open" and not case.assignee


def place(ctx: Context, case: Case, commit: Commit) -> Case:
    """Assign ``case`` round-robin if it waits in the pool and an available agent of its step has room."""
    if not waiting(case):
        return case
    role = case.step_def.role
    candidates = [a for a in agent_loads.registry().agents() if a.available and a.takes(role) and a.room]
    if not candidates:
        return case
    for agent in turn_order(candidates, agent_loads.registry().next_turn(case.step)):
        for _ in range(3):
            new = model.assign(case, ctx.now, assignee=agent.name, by=None,
                               reason=f"自动分配给 {agent.name}（轮流分配）")
            try:
                return commit(case, new, ctx=ctx, round_robin=True, settle=False)
            except ElementFailed:
                break                     # this agent filled up or went away meanwhile: the next one
            except VersionConflict:
                fresh = repository.store().get(case.case_id)
                if not waiting(fresh):
                    return fresh or case  # assigned (or moved on) by someone else
                if fresh is not None and fresh.step != case.step:
                    return place(ctx, fresh, commit)   # escalated meanwhile: that step's agents, not these
                case = fresh
    logger.info("case waits in the pool", extra={"case_id": case.case_id, "step": case.step})
    return case


def open_cases(steps: Sequence[str]) -> Iterator[Case]:
    """Open cases of ``steps`` from their queues (oldest deadline first), at most ``POOL_SCAN`` per step."""
    for step in steps:
        cursor, seen = None, 0
        while seen < POOL_SCAN:
            page, cursor = repository.store().queue_page(step, limit=50, cursor=cursor)
            seen += len(page)
            yield from page
            if not cursor:
                break


def steps_of(agent: Agent) -> list[str]:
    return [s.name for s in step_defs.STEPS if agent.takes(s.role)]


def pull(ctx: Context, name: str, commit: Commit) -> int:
    """An agent has room (became available, got capacity, finished a 工单): place what waits in their steps'
    pools, nearest deadline first, while anyone has room; how many were assigned."""
    agent = agent_loads.registry().get(name)
    if agent is None or not agent.available or not agent.room:
        return 0
    placed = 0
    for case in list(open_cases(steps_of(agent))):
        if waiting(case) and place(ctx, case, commit).assignee:
            placed += 1
            agent = agent_loads.registry().get(name)
            if agent is None or not agent.room:
                break
    return placed
