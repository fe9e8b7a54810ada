"""Assignment use cases (#25 item 3): an agent's status, the lead's team view and capacity, assigning a 工单
to a named agent, presence on the 工单 page. The round-robin itself is ``placement`` (run by every case write,
``casework.commit``); the load counters are ``agent_loads``; the agents ``agent_store`` / ``agent_memory``.

Who is an agent: a staff user (the Cognito groups ``support`` / ``senior-support`` in the caller's token) is
registered the first time they open ``/support/agents/me`` or take a 工单; an assignee must be a registered
agent (a free-text unknown name is refused, 422). Leads (``senior-support``) see the team and set capacities.
"""
from __future__ import annotations

import datetime as dt

from chalicelib.adapters import idempotency
from chalicelib.escalation import agent_loads, agent_schemas, casework, model, placement, repository, schemas
from chalicelib.escalation.agent_model import STATUS_TITLES, Agent
from chalicelib.escalation.store import ElementFailed, VersionConflict
from chalicelib.kernel import refusals
from chalicelib.kernel.actor import SENIOR_SUPPORT, SUPPORT, Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.schema import as_body

FULL = "该客服手上的工单已达上限，请先调整其容量或改派给其他人。"


def _role(actor: Actor) -> str:
    return SENIOR_SUPPORT if actor.has_role(SENIOR_SUPPORT) else SUPPORT


SEEN_EVERY = dt.timedelta(seconds=60)   # ``last_seen`` is written at most this often per agent


def _view(agent: Agent, reassigned: int = 0, carrying: list[str] | None = None) -> agent_schemas.AgentView:
    return agent_schemas.AgentView(name=agent.name, role=agent.role, status=agent.status,  # type: ignore[arg-type]
                                   status_title=STATUS_TITLES[agent.status], capacity=agent.capacity,
                                   load=agent.load, reassigned=reassigned, last_seen=agent.last_seen or None,
                                   carrying=carrying or [])


def registered(actor: Actor, ctx: Context) -> Agent:
    """The calling staff user as an agent (registered now if new: offline, the default capacity)."""
    casework.require_staff(actor)
    if not actor.username:
        raise refusals.NotAllowed("登录信息缺少用户名。", code="forbidden_role")
    registry = agent_loads.registry()
    agent = registry.get(actor.username)
    if agent is None or agent.role != _role(actor):
        registry.register(actor.username, _role(actor), ctx.settings.agent_capacity)
        agent = registry.get(actor.username)
    assert agent is not None
    if agent.last_seen < model.iso(ctx.now - SEEN_EVERY):   # the lead's "last seen", not a write per request
        registry.touch(agent.name, model.iso(ctx.now))
        agent = registry.get(agent.name) or agent
    return agent


def me(actor: Actor, ctx: Context) -> agent_schemas.AgentView:
    return _view(registered(actor, ctx))


def set_my_status(actor: Actor, ctx: Context, status: str) -> agent_schemas.AgentView:
    """Available: take what waits in the pool (up to capacity). Away / offline: hand every open 工单 back to
    the pool, where the round-robin gives it to someone available (or it waits)."""
    return _apply_status(ctx, registered(actor, ctx), status)


def set_status(actor: Actor, ctx: Context, name: str, status: str) -> agent_schemas.AgentView:
    """A lead sets an agent's status (someone left without switching to away): as ``set_my_status``."""
    require_lead(actor)
    agent = agent_loads.registry().get(name)
    if agent is None:
        raise refusals.Missing("没有这个客服。", code="agent_not_found")
    return _apply_status(ctx, agent, status)


def _apply_status(ctx: Context, agent: Agent, status: str) -> agent_schemas.AgentView:
    agent_loads.registry().set_status(agent.name, status)
    moved = placement.pull(ctx, agent.name, casework.commit) if status == "available" else _hand_back(ctx, agent)
    return _view(agent_loads.registry().get(agent.name) or agent, moved)


def _hand_back(ctx: Context, agent: Agent) -> int:
    moved = 0
    for case in list(placement.open_cases(placement.steps_of(agent))):
        for _ in range(3):
            if case is None or case.assignee != agent.name or case.status not in agent_loads.OPEN:
                break
            try:
                casework.commit(case, model.hand_back(case, ctx.now, reason=f"{agent.name} 暂离或下线"), ctx=ctx)
                moved += 1
                break
            except VersionConflict:
                case = repository.store().get(case.case_id)
    return moved


def require_lead(actor: Actor) -> None:
    if not actor.has_role(SENIOR_SUPPORT):
        raise refusals.NotAllowed("只有组长（senior-support）可以查看团队负载和调整容量。", code="forbidden_role")


def team(actor: Actor, ctx: Context) -> agent_schemas.AgentList:
    """The lead's view: every agent's status, capacity, open load and the 工单 they carry, and what waits in the
    pool (the steps' queues, read as ``placement.open_cases`` reads them: Queries, at most ``POOL_SCAN`` a step)."""
    require_lead(actor)
    agents = agent_loads.registry().agents()
    steps = [s.name for s in placement.step_defs.STEPS]
    carried: dict[str, list[str]] = {}
    pool: list[str] = []
    for case in placement.open_cases(steps):
        if placement.waiting(case):
            pool.append(case.case_id)
        elif case.assignee:
            carried.setdefault(case.assignee, []).append(case.case_id)
    return agent_schemas.AgentList(agents=[_view(a, carrying=carried.get(a.name)) for a in agents],
                                   waiting=len(pool), pool=pool)


def set_capacity(actor: Actor, ctx: Context, name: str, capacity: int) -> agent_schemas.AgentView:
    """A lead sets an agent's capacity (never below nothing: a lower one just takes no more until under it)."""
    require_lead(actor)
    registry = agent_loads.registry()
    if registry.get(name) is None:
        raise refusals.Missing("没有这个客服。", code="agent_not_found")
    registry.set_capacity(name, capacity)
    moved = placement.pull(ctx, name, casework.commit)
    return _view(registry.get(name) or Agent(name, SUPPORT, "offline", capacity), moved)


def assign(actor: Actor, ctx: Context, case_id: str, assignee: str | None,
           idempotency_key: str | None = None) -> idempotency.Outcome:
    """Take a 工单 (no ``assignee``) or give it to a named registered agent who may work its step; the agent's
    load moves in the same transaction, conditioned on their capacity (full: 409)."""
    def action(claim: idempotency.Claim | None) -> idempotency.Outcome:
        case = casework.load_workable(actor, case_id)
        name = assignee or registered(actor, ctx).name   # taking it oneself registers the caller
        agent = agent_loads.registry().get(name)
        if agent is None:
            raise refusals.Invalid("assignee：没有这个客服（只能分配给已登记的客服人员）。", code="unknown_agent",
                                   field="assignee")
        if not agent.takes(case.step_def.role) and case.step_def.role == SENIOR_SUPPORT:
            raise refusals.Invalid(f"assignee：{name} 不能处理「{case.step_def.title}」的工单。",
                                   code="agent_wrong_step", field="assignee")
        if case.assignee != name and agent.load >= agent.capacity:
            raise refusals.Conflicting(FULL, code="agent_at_capacity")
        new = model.assign(case, ctx.now, assignee=name, by=actor.user_id, by_name=actor.username or None)
        view = casework.show.case_view(ctx, new, staff=True)
        answered = casework.answer(claim, 200, view)
        try:
            casework.commit(case, new, ctx=ctx, extra=answered)
        except VersionConflict:
            raise refusals.Conflicting("工单状态刚刚发生了变化，请刷新后重试。", code="version_conflict") from None
        except ElementFailed:   # the agent filled up in between (or the key's claim lapsed)
            raise refusals.Conflicting(FULL, code="agent_at_capacity") from None
        return idempotency.Outcome(200, as_body(view), recorded=bool(answered))
    return casework.once(actor, ctx, idempotency_key, "case_assign", {"case_id": case_id, "assignee": assignee},
                         action)


__all__ = ["me", "set_my_status", "set_status", "team", "set_capacity", "assign", "schemas"]


PRESENCE_SECONDS = 10   # an entry counts this long after its last poll (the page polls every few seconds)


def presence(actor: Actor, ctx: Context, case_id: str, typing: bool) -> agent_schemas.PresenceView:
    """The caller is on this 工单 (viewing, or typing); who else is, fresh within ``PRESENCE_SECONDS``."""
    case = casework.load_workable(actor, case_id)
    if actor.username:
        registered(actor, ctx)   # keeps the agent's "last seen" current while they work a 工单
    name = actor.username or "staff"
    registry = agent_loads.registry()
    registry.seen(case.case_id, name, model.iso(ctx.now), typing, int(ctx.now.timestamp()) + PRESENCE_SECONDS * 6)
    since = model.iso(ctx.now - dt.timedelta(seconds=PRESENCE_SECONDS))
    return agent_schemas.PresenceView(others=[agent_schemas.Viewer(name=n, typing=t)
                                              for n, t in registry.present(case.case_id, since) if n != name])
