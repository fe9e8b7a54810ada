"""Plugs the facts, actions and handover into the assistant engine (``registry``: ``@fact`` / ``@action``).

Fact providers (names as ``intents.yaml`` lists them under ``lookup``):

- ``failed_repayment``      the latest failed repayment (a card or loan before a utility bill when the user says
  还款, the kind the text names otherwise): amount, reason in words, when a retry would arrive, the due date
  and whether it will be late; offers ``retry_repayment`` (not while an incident explains the failure)
- ``pending_repayment``     the latest processing (else settled) repayment: status and expected arrival
- ``latest_receipt``        the latest settled repayment and its receipt serial; offers ``show_receipt``
- ``pending_verification``  the repayment waiting for its SMS code; offers ``resend_code``
- ``bill_due`` / ``schedules``  the saved bill due next, its reminders; offers ``set_reminder``
- ``open_cases``            the user's latest 工单: status, who handles it, what happens next

Action handlers: ``retry_repayment``, ``resend_code``, ``show_receipt``, ``set_reminder``, ``freeze_account``
(asks; ``freeze_account:confirm`` freezes through the account-security 工单), ``verify_number`` and
``handover`` (opens the 工单 with the transcript: ``handover.py``). The user is the turn's user, always.
"""
from __future__ import annotations

import dataclasses

from chalicelib.assistant import actions, facts, handover, registry
from chalicelib.assistant.facts import Grounded
from chalicelib.assistant.model import Action, Reply
from chalicelib.kernel.actor import Actor

REPAYMENT_INTENTS = {"repayment_failed": ("failed",), "not_arrived": ("processing", "succeeded"),
                     "receipt": ("succeeded",), "verification_code": ("verification_required",),
                     "late_fee_due_date": ("processing", "failed")}
QUIET_INTENTS = {"handover", "greeting", "thanks", "out_of_scope"}


def actor_of(turn: registry.TurnContext, *, named: bool = False) -> Actor:
    """The signed-in user of the turn (the token's or the session's; never the request body's). The 工单 a
    handover opens texts its owner by user name: when the turn does not carry it, it is read from the user's
    own latest repayment (stored with the user name it was made by)."""
    given = getattr(turn, "actor", None)
    if isinstance(given, Actor):
        return given
    username = getattr(turn, "username", None) or (_username_of(turn.user_id, turn.ctx) if named else "")
    return Actor(user_id=turn.user_id, username=username)


def _username_of(user_id: str, ctx) -> str:
    from chalicelib.repay import service as repay
    bare = Actor(user_id=user_id, username="")
    latest = facts.recent(bare, ctx, limit=1)
    stored = repay.stored(user_id, latest[0]["id"]) if latest else None
    return stored.username if stored is not None else ""


def _lines(found: Grounded) -> tuple[str, ...]:
    return tuple(f"{f.label}：{f.value}" for f in found.facts)


def _actions(found: Grounded) -> tuple[Action, ...]:
    return tuple(Action(o.id, o.label) for o in found.actions if o.id != facts.HANDOVER.id)


def _reply(found: Grounded) -> Reply:
    return Reply(text=found.text, facts=_lines(found), actions=_actions(found), handover_case_id=found.case_id,
                 escalate=found.escalate)


def _values(found: Grounded, turn: registry.TurnContext) -> dict[str, str]:
    """The template values of a repayment (``{when}``, ``{payee}``, ``{amount}``, ``{reason}`` …)."""
    view = facts.load_repayment(actor_of(turn), turn.ctx, found.repayment_id) if found.repayment_id else None
    if view is None:
        return {}
    values = {"rid": view["id"], "when": facts.local_time(view.get("created_at"), turn.ctx),
              "payee": facts.payee_words(view),
              "amount": f"{view['amount']} 元", "status": facts.STATUS_WORDS.get(view["status"], view["status"]),
              "arrival": facts.local_time((view.get("expected_arrival") or {}).get("expected_at"), turn.ctx),
              "expires": facts.local_time((view.get("verification") or {}).get("expires_at"), turn.ctx)}
    if view["status"] == "failed":
        what, advice = facts.failure_words(view)
        incident = facts.incident_words(view)
        values.update(reason=what.rstrip("。"), advice=incident or advice)
    if view["status"] == "succeeded":
        from chalicelib.repay import model as repay_model
        values["receipt_no"] = repay_model.receipt_serial(view["id"])
    return values


def _repayment(turn: registry.TurnContext, statuses: tuple[str, ...], template: str, *,
               when: tuple[str, ...] | None = None) -> registry.Facts | None:
    found = facts.repayment_facts(actor_of(turn), turn.ctx, text=turn.text, statuses=statuses,
                                  repayment_id=_still_about(turn, statuses))
    if found.repayment_id is None:
        return None
    values = _values(found, turn)
    fits = when is None or values.get("status") in when
    return registry.Facts(facts=_lines(found), values=values, template=template if fits else None,
                          actions=_actions(found))


def _still_about(turn: registry.TurnContext, statuses: tuple[str, ...]) -> str | None:
    """A follow-up ("又失败了") that names no kind of repayment means the one this conversation's buttons were
    about, when it is (still) of a status the intent asks about."""
    if facts.mentioned_kinds(turn.text) or facts.REPAYMENT_ID.search(turn.text or ""):
        return None
    about = next((found.group(0) for t in reversed(turn.conversation.turns) for a in t.actions
                  if (found := facts.REPAYMENT_ID.search(a.id))), None)
    view = facts.load_repayment(actor_of(turn), turn.ctx, about) if about else None
    return about if view is not None and view["status"] in statuses else None


@registry.fact("failed_repayment")
def failed_repayment(turn: registry.TurnContext) -> registry.Facts | None:
    found = _repayment(turn, ("failed",), "failed", when=(facts.STATUS_WORDS["failed"],))
    if found is None or found.template is None:
        return found
    again = failed_again(turn, found.values.get("rid", ""))
    return dataclasses.replace(found, escalate=again) if again else found


def failed_again(turn: registry.TurnContext, repayment_id: str) -> str | None:
    """A retry this conversation tapped that failed again (the repayment is failed at a later attempt): the flow
    failed, the engine hands over by itself (``failed.py``)."""
    tapped = [t.action.rsplit(":", 1)[-1] for t in turn.conversation.turns
              if t.who == "user" and t.action and t.action.startswith(f"retry_repayment:{repayment_id}:")]
    if not repayment_id or not tapped:
        return None
    view = facts.load_repayment(actor_of(turn), turn.ctx, repayment_id)
    if view is None or view["status"] != "failed" or not any(
            a.isdigit() and int(view.get("attempt") or 0) > int(a) for a in tapped):
        return None
    return f"重试还款后再次失败（第 {view.get('attempt')} 次尝试：{facts.failure_words(view)[0].rstrip('。')}）"


@registry.fact("pending_repayment")
def pending_repayment(turn: registry.TurnContext) -> registry.Facts | None:
    return _repayment(turn, ("processing", "succeeded"), "pending", when=(facts.STATUS_WORDS["processing"],))


@registry.fact("latest_receipt")
def latest_receipt(turn: registry.TurnContext) -> registry.Facts | None:
    return _repayment(turn, ("succeeded",), "receipt", when=(facts.STATUS_WORDS["succeeded"],))


@registry.fact("pending_verification")
def pending_verification(turn: registry.TurnContext) -> registry.Facts | None:
    return _repayment(turn, ("verification_required",), "pending",
                      when=(facts.STATUS_WORDS["verification_required"],))


@registry.fact("bill_due")
def bill_due(turn: registry.TurnContext) -> registry.Facts | None:
    found = facts.bill_facts(actor_of(turn), turn.ctx, text=turn.text)
    return registry.Facts(facts=_lines(found), actions=_actions(found))


@registry.fact("schedules")
def schedules(turn: registry.TurnContext) -> registry.Facts | None:
    found = facts.bill_facts(actor_of(turn), turn.ctx, text=turn.text, schedules=True)
    return registry.Facts(facts=_lines(found), actions=_actions(found), values={"bill": found.text},
                          template="bill")


@registry.fact("open_cases")
def open_cases(turn: registry.TurnContext) -> registry.Facts | None:
    found = facts.case_facts(actor_of(turn), turn.ctx)
    if found.case_id is None:
        return None
    return registry.Facts(facts=_lines(found))


@registry.fact("number_check")
def number_check(turn: registry.TurnContext) -> registry.Facts | None:
    """A number in the message itself is checked at once, from the message as typed (``turn.raw``: in memory
    only — the stored message has its mobile numbers masked); the answer quotes it masked."""
    said = turn.raw or turn.text
    if not facts.has_number(said):
        return None
    found = facts.number_facts(said)
    return registry.Facts(facts=_lines(found), values={"check": found.text}, template="checked",
                          actions=_actions(found))


# ---------------------------------------------------------------- actions
def _conversation_id(turn: registry.TurnContext) -> str:
    return turn.conversation.id


@registry.action("retry_repayment", "重试还款")
def retry_repayment(turn: registry.TurnContext, argument: str) -> Reply:
    return _reply(actions.retry_repayment(actor_of(turn), turn.ctx, argument, conversation_id=_conversation_id(turn)))


@registry.action("resend_code", "重新发送验证码")
def resend_code(turn: registry.TurnContext, argument: str) -> Reply:
    return _reply(actions.resend_code(actor_of(turn), turn.ctx, argument, conversation_id=_conversation_id(turn)))


@registry.action("show_receipt", "查看电子回单")
def show_receipt(turn: registry.TurnContext, argument: str) -> Reply:
    return _reply(actions.show_receipt(actor_of(turn), turn.ctx, argument, conversation_id=_conversation_id(turn)))


@registry.action("set_reminder", "开启到期提醒")
def set_reminder(turn: registry.TurnContext, argument: str) -> Reply:
    return _reply(actions.set_reminder(actor_of(turn), turn.ctx, argument, conversation_id=_conversation_id(turn)))


@registry.action("schedule_repayment", "预约还款")
def schedule_repayment(turn: registry.TurnContext, argument: str) -> Reply:
    return _reply(actions.schedule_repayment(actor_of(turn, named=True), turn.ctx, argument,
                                             conversation_id=_conversation_id(turn)))


@registry.action("verify_number", "核实来电号码")
def verify_number(turn: registry.TurnContext, argument: str) -> Reply:
    return _reply(actions.verify_number(actor_of(turn), turn.ctx, argument, conversation_id=_conversation_id(turn),
                                        text=turn.raw or turn.text or _last_user_text(turn)))


@registry.action("freeze_account", "立即冻结账户")
def freeze_account(turn: registry.TurnContext, argument: str) -> Reply:
    return _reply(actions.freeze_account(actor_of(turn, named=True), turn.ctx, argument,
                                         conversation_id=_conversation_id(turn), transcript=transcript(turn),
                                         tried=tried(turn)))


@registry.action("handover", "转人工")
def open_handover(turn: registry.TurnContext, argument: str) -> Reply:
    if turn.conversation.case_id:
        return Reply(text="这次对话已经转给人工客服了，可以在“我的工单”查看进度和回复。",
                     handover_case_id=turn.conversation.case_id)
    topic = last_intent(turn) or (turn.intent.id if turn.intent and turn.intent.id not in QUIET_INTENTS else None)
    said = (*transcript(turn), ("assistant", turn.said)) if turn.said else transcript(turn)
    opened = handover.open_case(actor_of(turn, named=True), turn.ctx, conversation_id=_conversation_id(turn),
                                intent=topic, transcript=said, repayment_id=repayment_of(turn, topic),
                                tried=(*tried(turn), turn.failure) if turn.failure else tried(turn))
    return _reply(opened)


# ---------------------------------------------------------------- what the conversation already holds
def transcript(turn: registry.TurnContext) -> tuple[tuple[str, str], ...]:
    said = tuple((t.who, t.text) for t in turn.conversation.turns)
    return (*said, ("user", turn.text)) if turn.text else said


def _last_user_text(turn: registry.TurnContext) -> str:
    return next((t.text for t in reversed(turn.conversation.turns) if t.who == "user" and not t.action), "")


def last_intent(turn: registry.TurnContext) -> str | None:
    return next((i for i in reversed(turn.conversation.intents) if i not in QUIET_INTENTS), None)


def tried(turn: registry.TurnContext) -> tuple[str, ...]:
    """What the assistant already did: the topics it answered and the actions the user tapped."""
    done = [f"解答了“{handover.TOPIC[i]}”" for i in dict.fromkeys(turn.conversation.intents) if i in handover.TOPIC]
    done += [t.text for t in turn.conversation.turns
             if t.who == "user" and t.action and not t.action.startswith(("clarify:", "handover"))]
    return tuple(done)


def repayment_of(turn: registry.TurnContext, topic: str | None) -> str | None:
    """The repayment the conversation was about: one an offered action named, else the one its topic picks."""
    for t in reversed(turn.conversation.turns):
        for offered in t.actions:
            found = facts.REPAYMENT_ID.search(offered.id)
            if found:
                return found.group(0)
    if topic not in REPAYMENT_INTENTS:
        return None
    said = " ".join(t.text for t in turn.conversation.turns if t.who == "user")
    return facts.repayment_facts(actor_of(turn), turn.ctx, text=said, statuses=REPAYMENT_INTENTS[topic]).repayment_id
