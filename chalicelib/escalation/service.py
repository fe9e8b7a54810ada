"""Escalation use cases, one module per family; this module is their one entry point (``app.py``, the web
pages, other domains).

- ``user_side``      open a 工单, add information, escalate ("not solved"; staff too), confirm, rate, reopen
- ``staff_actions``  internal note, reply, resolve, lift an account's security freeze
- ``assignment``     agents' status and capacity, the lead's team view, assign/reassign (round-robin:
                     ``placement``, run by every case write)
- ``deadlines``      the scheduled sweep: warn, escalate a lapsed step, auto-close
- ``views``          one case, the owner's lists and page, the staff queues and workspace, new messages
- ``deflection``     KB suggestions before a 工单 is opened, and whether they answered it
- ``finding``        find a 工单 (staff): by reference, user name, repayment id or words, filtered and paged
- ``merging``        merge a duplicate 工单 into another of the same user, undo it within 24 h
- ``quarantine``     inbound mails refused (``inbound``), for leads: list, release into the 工单, discard
- ``export``         a 工单 exported for a complaint (JSON, printable page); ``evidence``: its attachments
- ``following``      support that follows the money: a 工单 hears its repayment (``hear_repayment``, the
                     repayment-events consumer), the owner answers whether that solves it (``answer_update``),
                     priority follows the due date
- ``incidents``      settlement incidents: counted from failures, grouped, one reply, closed;
                     ``incident_for_repayment(repayment) -> Incident | None`` (``.user_sentence``) for the assistant

Each use case reads: load the case under the read/act rules → one rule of ``model.py`` → ``store.save``
(conditional on the version read, with everything the change causes, in one transaction) — the shared
steps are ``casework.py``; how a case is shown is ``show.py``; the step clock is ``hours.py``. The store
is ``repository.store()``: DynamoDB (``store.py``), or ``memory.MemoryStore`` in the fast unit tests.

Every use case is given who acts (``chalicelib.kernel.actor.Actor``) and a ``Context`` (the moment and the
settings); none reads the clock or the settings itself. Refusals are ``chalicelib.kernel.refusals`` errors
(``errors.from_domain`` maps them to HTTP, in one place). Answers are the declared response models of
``schemas.py``, validated as they are built.

Other domains use escalation only through this module: the use cases, plus the declared steps, categories
and service levels (``STEPS``, ``CATEGORY_TITLES``, ``PRIORITIES``, ``sla_targets`` …) the reports need.
"""
from __future__ import annotations

from chalicelib.escalation import schemas, sla, store  # noqa: F401  (schemas, store: callers' names)
from chalicelib.escalation import steps as _steps
from chalicelib.escalation.assignment import assign, me, presence, set_capacity, set_my_status, set_status, team
from chalicelib.escalation.casework import MAX_ANSWER_BYTES, NOT_FOUND, WORDING
from chalicelib.escalation.deadlines import sweep
from chalicelib.escalation.deflection import deflected, not_deflected, suggestions
from chalicelib.escalation.evidence import attachment_download, attachment_upload, list_attachments
from chalicelib.escalation.export import export, export_html
from chalicelib.escalation.finding import normalize_reference, search
from chalicelib.escalation.following import answer_update, hear_repayment
from chalicelib.escalation.incident_model import Incident
from chalicelib.escalation.incidents import close as close_incident
from chalicelib.escalation.incidents import get_incident, incident_for_repayment, list_incidents, reply_all
from chalicelib.escalation.merging import merge_case, unmerge_case
from chalicelib.escalation.quarantine import REASON_TITLES as QUARANTINE_REASONS
from chalicelib.escalation.quarantine import discard as discard_mail
from chalicelib.escalation.quarantine import page as quarantine_page
from chalicelib.escalation.quarantine import release as release_mail
from chalicelib.escalation.show import case_view, staff_what_next, summary, what_next
from chalicelib.escalation.staff_actions import add_note, reply, resolve, unfreeze
from chalicelib.escalation.user_side import add_user_message, confirm, escalate, open_case, rate, reopen
from chalicelib.escalation.views import (
    case_repayments,
    get_case,
    list_mine,
    messages_since,
    my_cases_page,
    oldest_open,
    owner_page,
    queue,
    workable_steps,
    workspace_case,
)

# The declarations other domains read (reports): steps in the order a case climbs them, categories, priorities.
STEPS = _steps.STEPS
STEP_NAMES = _steps.NAMES
STEP_TITLES: dict[str, str] = {step.name: step.title for step in _steps.STEPS}
CATEGORY_TITLES = _steps.CATEGORY_TITLES
CATEGORIES = _steps.CATEGORIES
PRIORITIES = sla.PRIORITIES
sla_targets = sla.targets          # (first-response hours, resolution hours) of a priority
csat_target = sla.csat_target      # the CSAT target as a share, or None


def priority_titles() -> dict[str, str]:
    """P1 → its title in ``sla.yaml`` (紧急, 高, 普通)."""
    return {p: sla.table()["priorities"][p]["title"] for p in PRIORITIES}


__all__ = ["MAX_ANSWER_BYTES", "NOT_FOUND", "WORDING", "sweep", "deflected", "not_deflected", "suggestions",
           "search", "normalize_reference", "attachment_download", "attachment_upload", "list_attachments", "export",
           "export_html", "case_view",
           "staff_what_next", "summary", "what_next", "add_note", "assign", "reply", "resolve", "unfreeze",
           "add_user_message", "confirm", "escalate", "open_case", "rate", "reopen", "case_repayments", "get_case",
           "list_mine", "messages_since", "my_cases_page", "oldest_open", "owner_page", "queue", "workable_steps",
           "workspace_case", "STEPS", "STEP_NAMES", "STEP_TITLES", "CATEGORY_TITLES", "CATEGORIES", "PRIORITIES",
           "sla_targets", "csat_target", "priority_titles", "schemas", "store", "answer_update", "hear_repayment",
           "Incident", "close_incident", "get_incident", "incident_for_repayment", "list_incidents", "reply_all",
           "me", "set_capacity", "set_my_status", "set_status", "team", "presence", "merge_case", "unmerge_case",
           "QUARANTINE_REASONS", "discard_mail", "quarantine_page", "release_mail"]
