"""The escalation store in memory: the same interface as ``store.py`` (domain objects in and out, the same
conditional semantics and errors), without AWS — the fast unit tier (``tests/escalation/unit``) runs the use
cases on it through ``repository.use_store``.

Kept exactly like the real one where a use case can tell: a write names the version it read and loses with
``VersionConflict`` to any other write in between (``DuplicateReference`` for a reference already taken);
the case, its conversation entries, its messages, its events and an Idempotency-Key's answer are written all
or nothing; reads return what the last write left; lists and queues come in the same order, cursors are
opaque and a foreign one is ``BadCursor``. What it keeps besides, for tests to read: ``sent`` (the outbox
messages of committed writes, in order) and ``elements`` (other transaction elements: report events).
"""
from __future__ import annotations

import base64
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.adapters import idempotency, outbox
from chalicelib.escalation import terms
from chalicelib.escalation.agent_memory import MemoryAgents
from chalicelib.escalation.cursors import cursor_text
from chalicelib.escalation.incident_memory import IncidentMemory
from chalicelib.escalation.items import name_key, queue_sort_key
from chalicelib.escalation.model import Case
from chalicelib.escalation.quarantine_memory import MemoryQuarantine
from chalicelib.escalation.store import DuplicateReference, ElementFailed, VersionConflict


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str, prefix: str) -> str:
    return cursor_text(cursor, lambda text: text.startswith(prefix))[len(prefix):]


_PLAIN_WORDING = idempotency.Wording()   # ``idempotency.once``'s default


@dataclass(frozen=True)
class _Claim:
    """This request holds an Idempotency-Key; ``completion`` is its answer as a transaction element."""
    key: tuple

    def completion(self, status_code: int, body: dict) -> dict:
        return {"Answer": (self.key, status_code, body)}


@dataclass
class MemoryStore:
    cases: dict[str, Case] = field(default_factory=dict)
    entries: dict[str, list[tuple[str, dict]]] = field(default_factory=dict)   # case → [(sort key, entry)]
    sent: list[outbox.Message] = field(default_factory=list)
    elements: list[dict] = field(default_factory=list)
    counts: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    keys: dict[tuple, tuple[Any, tuple[int, dict] | None]] = field(default_factory=dict)
    incidents: IncidentMemory = field(default_factory=IncidentMemory)   # ``repository.incidents()``
    terms: dict[str, dict[str, str]] = field(default_factory=dict)   # word → {<created_at>#<ref>: ref}
    _serial: Any = field(default_factory=itertools.count)
    agent_registry: MemoryAgents = field(default_factory=MemoryAgents)   # the agents' twin (agent_loads.registry)
    mail_quarantine: MemoryQuarantine = field(default_factory=MemoryQuarantine)   # quarantine_store.chosen()

    # ------------------------------------------------------------ writes
    def save(self, case: Case, *, expected_version: int | None, extra: Sequence[dict] = (),
             messages: Sequence[outbox.Message] = (), conversation: Sequence[tuple[str, dict]] = ()) -> None:
        stored = self.cases.get(case.case_id)
        if expected_version is None and stored is not None:
            raise DuplicateReference(case.case_id)
        if expected_version is not None and (stored is None or stored.version != expected_version):
            raise VersionConflict(case.case_id)
        self._check_answers(extra, case.case_id)
        for element in extra:   # a second case of the transaction (``pair_elements``)
            if "Pair" in element:
                other, version, _ = element["Pair"]
                if self.cases.get(other.case_id) is None or self.cases[other.case_id].version != version:
                    raise ElementFailed(case.case_id)
        self.cases[case.case_id] = case
        for word in terms.for_write(case, new=expected_version is None, conversation=conversation, room=100):
            self.terms.setdefault(word, {})[terms.sort_key(case)] = case.case_id
        for kind, entry in conversation:
            self._add_entry(case.case_id, kind, entry)
        for element in extra:
            if "Pair" in element:
                other, _, said = element["Pair"]
                self.cases[other.case_id] = other
                for entry in said:
                    self._add_entry(other.case_id, "MSG", entry)
        self.sent.extend(messages)
        self._apply(extra)

    def add_note(self, case_id: str, note: dict, extra: Sequence[dict] = ()) -> None:
        self._check_answers(extra, case_id)
        self._add_entry(case_id, "NOTE", note)
        self._apply(extra)

    def count_deflection(self, day: str, slug: str, field_name: str) -> None:
        if field_name not in ("opened", "returned"):
            raise ValueError(field_name)
        counts = self.counts.setdefault((day, slug), {"opened": 0, "returned": 0})
        counts[field_name] += 1

    def _add_entry(self, case_id: str, kind: str, entry: dict) -> None:
        if kind not in ("MSG", "NOTE"):
            raise ValueError(kind)
        sort_key = f"{kind}#{entry['at']}#{next(self._serial):08x}"
        self.entries.setdefault(case_id, []).append((sort_key, dict(entry)))
        self.entries[case_id].sort(key=lambda pair: pair[0])

    def _check_answers(self, extra: Sequence[dict], what: str) -> None:
        """An answer's condition: the request still holds its key (else nothing is written)."""
        for element in extra:
            if "Answer" in element and self.keys.get(element["Answer"][0], (None, ()))[1] is not None:
                raise ElementFailed(what)
            if "Change" in element and not element["Change"].holds():   # an agent's load (agent_memory.py)
                raise ElementFailed(what)

    def _apply(self, extra: Sequence[dict]) -> None:
        for element in extra:
            if "Answer" in element:
                key, status, body = element["Answer"]
                self.keys[key] = (self.keys[key][0], (status, body))
            elif "Change" in element:
                element["Change"].apply()
            elif "Pair" not in element:
                self.elements.append(element)

    # ------------------------------------------------------------ once per Idempotency-Key
    def once(self, user_id: str, key: str | None, *, scope: str, payload: Any,
             action: Callable[[_Claim | None], idempotency.Outcome],
             wording: idempotency.Wording = _PLAIN_WORDING,
             checks: Callable[[], None] = lambda: None) -> idempotency.Outcome:
        """``idempotency.once`` over a dict: a repeat replays the first answer, another payload is refused,
        a failed action frees the key."""
        if key is None:
            checks()
            return action(None)
        held_key = (user_id, scope, idempotency.validate_key(key))
        if held_key in self.keys:
            first_payload, answer = self.keys[held_key]
            if first_payload != payload:
                raise wording.reused_error()
            if answer is None:
                raise wording.in_progress_error()
            return idempotency.Outcome(answer[0], answer[1], replayed=True)
        self.keys[held_key] = (payload, None)
        try:
            checks()
            outcome = action(_Claim(held_key))
        except BaseException:
            del self.keys[held_key]
            raise
        if not outcome.recorded:
            self.keys[held_key] = (payload, (outcome.status_code, outcome.body))
        return outcome

    # ------------------------------------------------------------ reads
    def get(self, case_id: str) -> Case | None:
        return self.cases.get(case_id)

    def conversation(self, case_id: str, kind: str) -> list[dict]:
        return [dict(entry) for sk, entry in self.entries.get(case_id, []) if sk.startswith(f"{kind}#")]

    def conversation_after(self, case_id: str, cursor: str | None, limit: int = 100) -> list[dict]:
        after = _decode(cursor, "MSG#") if cursor else None
        found = [{**entry, "cursor": _encode(sk)} for sk, entry in self.entries.get(case_id, [])
                 if sk.startswith("MSG#") and (after is None or sk[len("MSG#"):] > after)]
        return found[:limit]

    def pair_elements(self, case: Case, *, expected_version: int, said: Sequence[dict] = ()) -> list[dict]:
        return [{"Pair": (case, expected_version, [dict(e) for e in said])}]

    def open_for_repayment(self, user_id: str, repayment_id: str) -> list[Case]:
        return sorted((c for c in self.cases.values() if c.user_id == user_id and c.repayment_id == repayment_id
                       and c.status in ("open", "waiting_user")), key=lambda c: c.case_id)

    def _of_user(self, user_id: str) -> list[Case]:
        return sorted((c for c in self.cases.values() if c.user_id == user_id and not c.merged_into),
                      key=lambda c: f"{c.created_at}#{c.case_id}", reverse=True)

    def cases_of_user(self, user_id: str, limit: int = 50) -> list[Case]:
        return self._of_user(user_id)[:limit]

    def user_page(self, user_id: str, *, limit: int, cursor: str | None) -> tuple[list[Case], str | None]:
        after = _decode(cursor, "USER#") if cursor else None
        cases = [c for c in self._of_user(user_id) if after is None or f"{c.created_at}#{c.case_id}" < after]
        page = cases[:limit]
        more = len(cases) > limit
        return page, _encode(f"USER#{page[-1].created_at}#{page[-1].case_id}") if more else None

    def queue_page(self, step: str, *, limit: int, cursor: str | None) -> tuple[list[Case], str | None]:
        after = _decode(cursor, f"QUEUE#{step}#") if cursor else None
        cases = sorted((c for c in self.cases.values() if c.step == step and c.status in ("open", "waiting_user")
                        and (after is None or queue_sort_key(c) > after)), key=queue_sort_key)
        page = cases[:limit]
        more = len(cases) > limit
        return page, _encode(f"QUEUE#{step}#{queue_sort_key(page[-1])}") if more else None

    def open_cases_of_repayment(self, repayment_id: str, limit: int = 20) -> list[Case]:
        return sorted((c for c in self.cases.values() if c.repayment_id == repayment_id
                       and c.status in ("open", "waiting_user")), key=lambda c: f"{c.created_at}#{c.case_id}")[:limit]

    def cases_of_incident(self, incident_id: str, limit: int = 500) -> list[Case]:
        return sorted((c for c in self.cases.values() if c.incident_id == incident_id),
                      key=lambda c: f"{c.created_at}#{c.case_id}")[:limit]

    def due_cases(self, until_iso: str, limit: int = 100) -> list[Case]:
        due = sorted((when[1], c.case_id) for c in self.cases.values()
                     if (when := c.due()) is not None and when[1] <= until_iso)
        return [self.cases[case_id] for _, case_id in due[:limit]]

    def oldest_open(self, limit: int = 20) -> list[Case]:
        return sorted((c for c in self.cases.values() if c.status in ("open", "waiting_user")),
                      key=lambda c: f"{c.created_at}#{c.case_id}")[:limit]

    def deflections(self, day: str) -> dict[str, dict[str, int]]:
        return {slug: dict(counts) for (d, slug), counts in self.counts.items() if d == day}

    # ------------------------------------------------------------ search (``finding.py``)
    def find_keys(self, kind: str, key: str, *, since: str | None, until: str | None, before: str | None,
                  page: int = 50):
        found: list[tuple[str, Case | None]]
        if kind == "term":
            found = [(sk, None) for sk in self.terms.get(key, {})]
        else:
            match = {"user": lambda c: name_key(c.username) == key, "repayment": lambda c: c.repayment_id == key,
                     "phone": lambda c: c.phone4 == key}[kind]
            found = [(terms.sort_key(c), c) for c in self.cases.values() if match(c)]
        low, high = since or "0", min(before or "~", f"{until}~" if until else "~")
        for sk, case in sorted(found, key=lambda pair: pair[0], reverse=True):
            if low <= sk <= high and (before is None or sk < before):
                yield sk, case

    def get_many(self, case_ids: Sequence[str]) -> list[Case]:
        return [self.cases[c] for c in dict.fromkeys(case_ids) if c in self.cases]
