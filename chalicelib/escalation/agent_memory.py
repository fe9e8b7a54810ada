"""The agents in memory: ``agent_store.py``'s interface and conditions without AWS (the fast tier).

``load_element`` gives a ``Change`` (``adapters.unit_of_work``) that ``memory.MemoryStore.save`` checks and
applies under the one lock with the case it is written with: the same all-or-nothing as the DynamoDB
transaction (``load < capacity`` [and available] to add, ``load > 0`` to take away).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from chalicelib.adapters.unit_of_work import LOCK, Change
from chalicelib.escalation.agent_model import Agent


@dataclass
class MemoryAgents:
    team: dict[str, Agent] = field(default_factory=dict)
    turns: dict[str, int] = field(default_factory=dict)
    presence: dict[tuple[str, str], tuple[str, bool]] = field(default_factory=dict)

    def agents(self) -> list[Agent]:
        with LOCK:
            return sorted(self.team.values(), key=lambda a: a.name)

    def get(self, name: str) -> Agent | None:
        return self.team.get(name)

    def register(self, name: str, role: str, capacity: int) -> None:
        with LOCK:
            old = self.team.get(name)
            self.team[name] = dataclasses.replace(old, role=role) if old else Agent(name, role, "offline", capacity)

    def set_status(self, name: str, status: str) -> None:
        with LOCK:
            self.team[name] = dataclasses.replace(self.team[name], status=status)

    def set_capacity(self, name: str, capacity: int) -> None:
        with LOCK:
            self.team[name] = dataclasses.replace(self.team[name], capacity=capacity)

    def touch(self, name: str, at: str) -> None:
        with LOCK:
            self.team[name] = dataclasses.replace(self.team[name], last_seen=at)

    def next_turn(self, step: str) -> int:
        with LOCK:
            self.turns[step] = self.turns.get(step, 0) + 1
            return self.turns[step]

    def load_element(self, name: str, delta: int, *, available: bool = False) -> dict:
        def holds() -> bool:
            agent = self.team.get(name)
            if agent is None:
                return False
            if delta > 0:
                return agent.load < agent.capacity and (agent.available or not available)
            return agent.load > 0

        def apply() -> None:
            self.team[name] = dataclasses.replace(self.team[name], load=self.team[name].load + delta)
        return {"Change": Change(holds, apply)}

    def seen(self, case_id: str, name: str, at: str, typing: bool, expires: int) -> None:
        with LOCK:
            self.presence[(case_id, name)] = (at, typing)

    def present(self, case_id: str, since: str) -> list[tuple[str, bool]]:
        return sorted((name, typing) for (case, name), (at, typing) in self.presence.items()
                      if case == case_id and at >= since)
