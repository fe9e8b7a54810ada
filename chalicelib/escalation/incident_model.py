"""Settlement incidents as plain data (#24 item 5), no AWS.

An incident is one kind of settlement failure (``REASONS``) at one issuer, platform or biller (the *source*)
that passed ``incident_threshold`` failures within one window bucket of ``incident_window_minutes`` (fixed
buckets from the epoch, ``bucket``). It opens once per source and reason (the store's active pointer is a
conditional create), counts later failures, gets the lead's replies (each sent to every grouped 工单 once)
and closes by hand or once no failure came for ``incident_quiet_minutes`` (``quiet``).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Literal

from chalicelib.escalation.model import RuleViolation, iso
from chalicelib.kernel import clock

# The failures that say "the other side is down", not "this user's account": what an incident is made of.
REASONS = {"biller_unavailable": "暂时无法受理还款", "maintenance": "系统维护", "network_error": "通信故障"}
SOURCE_FIELDS = {"credit_card": "issuer", "loan": "platform", "utility": "biller"}
SOURCE_TITLES = {"issuer": "发卡银行", "platform": "贷款平台", "biller": "收款机构"}
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
Status = Literal["open", "closed"]


@dataclass(frozen=True)
class Incident:
    incident_id: str
    reason: str
    source_kind: str          # issuer | platform | biller
    source: str               # its name, as the payee names it (招商银行, 国网上海市电力公司 …)
    opened_at: str
    last_failure_at: str
    failures: int
    status: Status = "open"
    version: int = 1
    closed_at: str | None = None
    closed_by: str | None = None       # staff user name (internal), or "system" (quiet window)
    replies: tuple[dict, ...] = ()     # {"id", "at", "by_name", "text"}

    @property
    def key(self) -> str:
        return source_key(self.reason, self.source_kind, self.source)

    @property
    def title(self) -> str:
        return f"{self.source}（{SOURCE_TITLES[self.source_kind]}）{REASONS[self.reason]}"

    @property
    def user_sentence(self) -> str:
        """What an affected user is told (the assistant, h24b): the cause, and not to retry for now."""
        return (f"{self.source}目前{REASONS[self.reason]}，我们已知悉并在处理中。现在重试很可能仍会失败，"
                "请暂时不要重复还款；恢复后我们会在您的工单中通知您。")


def source_of(kind: str, payee: dict) -> tuple[str, str] | None:
    """(source kind, name) of a repayment's payee, or None (no name to group by)."""
    field = SOURCE_FIELDS.get(kind)
    name = (payee or {}).get(field or "")
    return (field, str(name)) if field and name else None


def source_key(reason: str, source_kind: str, source: str) -> str:
    return f"{reason}|{source_kind}|{source}"


def bucket(now: dt.datetime, window_minutes: int) -> str:
    """The window bucket ``now`` falls in: the ISO start of its ``window_minutes`` slice of time."""
    size = window_minutes * 60
    start = int(now.timestamp()) // size * size
    return iso(dt.datetime.fromtimestamp(start, dt.UTC))


def new_id(now: dt.datetime) -> str:
    return f"INC-{now.astimezone(dt.UTC):%Y%m%d%H%M}-" + "".join(secrets.choice(ALPHABET) for _ in range(4))


def open_incident(*, reason: str, source_kind: str, source: str, failures: int, now: dt.datetime) -> Incident:
    if reason not in REASONS or source_kind not in SOURCE_TITLES:
        raise ValueError((reason, source_kind))
    return Incident(incident_id=new_id(now), reason=reason, source_kind=source_kind, source=source,
                    opened_at=iso(now), last_failure_at=iso(now), failures=failures)


def touch(incident: Incident, now: dt.datetime) -> Incident:
    """One more failure of the same kind while it is open."""
    if incident.status != "open":
        raise RuleViolation("故障事件已关闭。", "incident_closed")
    return dataclasses.replace(incident, failures=incident.failures + 1, last_failure_at=iso(now),
                               version=incident.version + 1)


def quiet(incident: Incident, now: dt.datetime, quiet_minutes: int) -> bool:
    return (incident.status == "open"
            and clock.parse(incident.last_failure_at) + dt.timedelta(minutes=quiet_minutes) <= now)


def close(incident: Incident, now: dt.datetime, *, by_name: str) -> Incident:
    if incident.status != "open":
        raise RuleViolation("故障事件已关闭。", "incident_closed")
    return dataclasses.replace(incident, status="closed", closed_at=iso(now), closed_by=by_name,
                               version=incident.version + 1)


def add_reply(incident: Incident, now: dt.datetime, *, reply_id: str, text: str, by_name: str) -> Incident:
    """Record the lead's reply once (a repeat of the same reply id changes nothing)."""
    if any(r["id"] == reply_id for r in incident.replies):
        return incident
    if incident.status != "open":
        raise RuleViolation("故障事件已关闭，无法统一答复。", "incident_closed")
    reply = {"id": reply_id, "at": iso(now), "by_name": by_name, "text": text}
    return dataclasses.replace(incident, replies=incident.replies + (reply,), version=incident.version + 1)


def to_item(incident: Incident) -> dict:
    item = dataclasses.asdict(incident)
    item["replies"] = list(incident.replies)
    return {k: v for k, v in item.items() if v is not None}


def from_item(item: dict) -> Incident:
    fields = {f.name for f in dataclasses.fields(Incident)}
    data = {k: v for k, v in item.items() if k in fields}
    data["failures"] = int(data["failures"])
    data["version"] = int(data.get("version", 1))
    data["replies"] = tuple(dict(r) for r in data.get("replies") or ())
    return Incident(**data)
