"""The assistant's facade: ``take_turn`` (one message or one tapped action → one reply), ``conversation``.

``take_turn(ctx, user_id, conversation_id=None, text=None, action=None)`` → ``TurnResult``:

1. the input is checked: a message or an action (an action wins when both come); an empty message or one
   over ``MAX_TEXT`` characters is refused (``Invalid``); a message with nothing to understand (emoji
   only) gets a polite reply with topic buttons;
2. the user's conversation is read (``Missing`` for an unknown id — or another user's, which looks the
   same) or a new one started; a tapped action must be one the last answer offered (or 转人工);
3. the message is understood (``understand.py``) → the intent's answer (grounded by its fact providers for
   a signed-in user, ``registry.FACTS``), one clarifying question with buttons, or a knowledge-base answer
   (``search.service``); an action runs its handler (``registry.ACTIONS``), ``clarify:<intent>`` answers that
   intent, ``resolved`` closes the topic;
4. both turns (the user's with card and phone numbers masked) are written over the version read (a lost
   race → ``Conflicting``, nothing written); events say what happened, never who or what was typed.

``user_id=None`` (an anonymous visitor): the general answer and the articles only, nothing stored, no
facts, no actions but the clarifying buttons.
"""
from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from typing import Any

from chalicelib.adapters import events
from chalicelib.assistant import (
    about,
    failed,
    fee_facts,  # noqa: F401  (registers the fee_quote provider, h26b)
    grounding,  # noqa: F401  (registers the fact providers and actions, h24b)
    intents,
    registry,
    store,
    understand,
)
from chalicelib.assistant.model import (
    HANDOVER,
    KEEP,
    MAX_TEXT,
    RESOLVED,
    Action,
    Article,
    Conversation,
    Intent,
    Reply,
    Turn,
    mask_numbers,
)
from chalicelib.kernel import clock, refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import user_hash

# Actions about one record (their id names it): only a fact provider that found the record offers them (h26b).
FOR_RECORDS = frozenset({"retry_repayment", "resend_code", "show_receipt", "set_reminder"})
UNCLEAR_TOPICS = ("repayment_failed", "not_arrived", "verification_code", "account_stolen")
SEARCH_ARTICLES = 3


@dataclass(frozen=True)
class TurnResult:
    conversation_id: str | None
    reply: Reply
    conversation: Conversation | None = None


def take_turn(ctx: Context, user_id: str | None, *, conversation_id: str | None = None, text: str | None = None,
              action: str | None = None, actor: Actor | None = None, repayment_id: str | None = None) -> TurnResult:
    """``actor``: the signed-in caller (the token's or the session's, with its user name), for what an action
    opens in the user's name (the handover 工单); must be ``user_id``'s. ``repayment_id`` (a new conversation
    only): opened about one of the caller's repayments — its facts are the first answer (``about.py``), then the
    message or tap, if any, follows; another user's id is ``Missing`` (``repayment_not_found``), nothing stored."""
    if actor is not None and actor.user_id != user_id:
        raise ValueError("actor is not the turn's user")
    action = (action or "").strip() or None
    message = None if action or (repayment_id and text is None) else _clean(text)
    if user_id is None:
        return TurnResult(None, _anonymous(message, action))
    if conversation_id and repayment_id:
        raise refusals.Invalid("只有新对话可以指定还款，请不要同时带对话编号。", code="repayment_with_conversation",
                               field="repayment_id")
    if conversation_id:
        conversation = store.get(user_id, conversation_id)
        if conversation is None:
            raise refusals.Missing("没有找到这段对话。", code="conversation_not_found")
    else:
        conversation = Conversation(id=new_id(ctx), user_id=user_id, started_at=clock.isoformat(ctx.now))
    if conversation.full:
        raise refusals.Conflicting("这段对话已经很长了，请开始新的对话。", code="conversation_full")
    now = clock.isoformat(ctx.now)
    if repayment_id:          # the first answer states the repayment the user came about
        first, topic = opening(ctx, user_id, repayment_id, actor)
        opened = Turn(at=now, who="assistant", text=first.text, intent=topic, facts=first.facts,
                      actions=first.actions, articles=first.articles)
        conversation = dataclasses.replace(conversation, turns=(opened,), intents=(topic,), about=repayment_id)
        if message is None and not action:
            return _store(ctx, Conversation(id=conversation.id, user_id=user_id, started_at=conversation.started_at),
                          conversation, user_id, topic, None, first)
    turn = registry.TurnContext(ctx=ctx, user_id=user_id, conversation=conversation, text=message or "", actor=actor,
                                raw=_raw(text) if message else "")
    if action:
        if action not in conversation.offered and action != HANDOVER:
            raise _unavailable()
        reply, intent_id, changes = _act(turn, action)
        said = Turn(at=now, who="user", text=_label_of(conversation, action), action=action)
    else:
        assert message is not None
        reply, intent_id, changes = _understand(turn, message)
        said = Turn(at=now, who="user", text=message, intent=intent_id)
    changes.setdefault("missed", 0)
    if intent_id != HANDOVER:
        reply = failed.settle(turn, reply, intent_id=intent_id, missed=changes["missed"])
        if reply.handover_case_id and not conversation.case_id:
            changes["missed"] = 0
        reply = _with_handover(reply, conversation)
    answered = Turn(at=now, who="assistant", text=reply.text, intent=intent_id, facts=reply.facts,
                    actions=reply.actions, articles=reply.articles)
    if intent_id and not changes.get("clarifying"):
        changes.setdefault("intents", (*conversation.intents, intent_id))
    changes.setdefault("clarifying", ())
    if reply.handover_case_id:
        changes["case_id"] = reply.handover_case_id
    return _store(ctx, conversation, conversation.add(said, answered, **changes), user_id, intent_id, action, reply)


def _store(ctx: Context, before: Conversation, updated: Conversation, user_id: str, intent_id: str | None,
           action: str | None, reply: Reply) -> TurnResult:
    """Write the conversation over the version read (a lost race: ``Conflicting``), then its events."""
    if updated.version == before.version:
        updated = dataclasses.replace(updated, version=before.version + 1)
    uow = store.begin()
    store.save(uow, updated, expires_at=int((ctx.now + KEEP).timestamp()))
    try:
        uow.commit()
    except store.Conflict:
        raise refusals.Conflicting("同一段对话刚刚有新的消息，请刷新后再试。", code="conversation_changed") from None
    _record(before, updated, user_id, intent_id, action,
            auto=bool(updated.case_id and not before.case_id and intent_id != HANDOVER
                      and (action or "").partition(":")[0] not in (HANDOVER, "freeze_account")))
    return TurnResult(updated.id, reply, updated)


def opening(ctx: Context, user_id: str, repayment_id: str, actor: Actor | None = None) -> tuple[Reply, str]:
    """(the first answer of a conversation about one of the caller's repayments, its topic) — read only, what
    ``take_turn(repayment_id=…)`` stores first; ``Missing`` (``repayment_not_found``) when it is not theirs."""
    first, topic = about.opening(ctx, user_id, repayment_id, actor)
    first = dataclasses.replace(first, articles=articles(intents.all_intents()[topic].articles))
    return _with_handover(first, Conversation(id="", user_id=user_id, started_at="")), topic


def conversation(user_id: str, conversation_id: str | None = None) -> Conversation | None:
    """The user's conversation (the newest one without an id); None if there is none (or it is another's)."""
    return store.get(user_id, conversation_id) if conversation_id else store.latest(user_id)


def transcript(conversation: Conversation, *, limit: int = 4000) -> str:
    """The conversation as lines an agent reads (``用户：…`` / ``智能客服：…``, numbers already masked), the newest
    kept when it is longer than ``limit`` characters — what a handover puts in the 工单."""
    lines = [f"{'用户' if t.who == 'user' else '智能客服'}：{t.text}" for t in conversation.turns]
    kept: list[str] = []
    size = 0
    for line in reversed(lines):
        if kept and size + len(line) + 1 > limit:
            kept.append("…（更早的对话略）")
            break
        kept.append(line)
        size += len(line) + 1
    return "\n".join(reversed(kept))


def new_id(ctx: Context) -> str:
    return ctx.now.strftime("%Y%m%d%H%M%S") + secrets.token_hex(6)


# --------------------------------------------------------------------------- pieces
def _unavailable() -> refusals.Conflicting:
    return refusals.Conflicting("这个操作已不可用，请按最新的回复操作。", code="action_unavailable", field="action")


def _clean(text: str | None) -> str:
    if text is None or not text.strip():
        raise refusals.Invalid("请输入您的问题。", code="empty_text", field="text")
    if len(text) > MAX_TEXT:
        raise refusals.Invalid(f"一次最多输入 {MAX_TEXT} 个字，请简短描述您的问题。", code="text_too_long",
                               field="text")
    return mask_numbers(_plain(text))


def _plain(text: str) -> str:
    # lone surrogates (valid JSON, not UTF-8) and control characters never reach the store
    text = "".join(" " if ch < " " or ch == "\x7f" else ch for ch in text.encode("utf-8", "replace").decode())
    return " ".join(text.split())


def _raw(text: str | None) -> str:
    """The message as typed (numbers unmasked), for the turn in memory only: the number check reads it."""
    return _plain(text or "")


def _understand(turn: registry.TurnContext, message: str) -> tuple[Reply, str | None, dict]:
    found = understand.understand(message)
    reply, intent_id, changes = _understood(turn, message, found)
    missed = failed.not_understood(found.decision, found.intent, found.confidence, understand.SEARCH_BELOW,
                                   articles_found=bool(reply.articles))
    return reply, intent_id, {**changes, "missed": failed.misses(turn.conversation, missed)}


def _understood(turn: registry.TurnContext, message: str, found: understand.Understanding) \
        -> tuple[Reply, str | None, dict]:
    known = intents.all_intents()
    if found.decision == "unclear":
        return _clarify(("没太看懂您的意思，请用一句话说说遇到了什么问题，或者选一个："), UNCLEAR_TOPICS), None, \
            {"clarifying": UNCLEAR_TOPICS}
    if found.decision == "clarify" and turn.conversation.clarifying:
        found = dataclasses.replace(found, decision="answer")   # never two clarifying questions in a row
    if found.decision == "clarify":
        question = "您是想问哪一个？"
        return _clarify(question, found.options), None, {"clarifying": found.options}
    if found.decision == "search":
        return _search_answer(message, known.get(found.intent or "")), "out_of_scope", {}
    intent = known[found.intent or "out_of_scope"]
    if intent.id == HANDOVER:
        return _act(turn, HANDOVER)
    return _answer(dataclasses.replace(turn, intent=intent), intent), intent.id, {}


def _act(turn: registry.TurnContext, action: str) -> tuple[Reply, str | None, dict]:
    name, _, argument = action.partition(":")
    known = intents.all_intents()
    if name == "clarify" and argument == HANDOVER:        # 转人工 as a clarifying button: the handover itself
        return _act(turn, HANDOVER)
    if name == "clarify" and argument in known:
        intent = known[argument]
        return _answer(dataclasses.replace(turn, intent=intent), intent), intent.id, {}
    if name == RESOLVED:
        return Reply(text=known["thanks"].answer if "thanks" in known else "不客气。"), None, {"resolved": True}
    handler = registry.ACTIONS.get(name)
    if handler is None:
        raise _unavailable()
    return handler(turn, argument), (HANDOVER if name == HANDOVER else None), {}


def _answer(turn: registry.TurnContext, intent: Intent) -> Reply:
    text = intent.answer
    facts: list[str] = []
    actions: list[Action] = []
    grounded = False
    escalate = None
    for name in intent.lookup:
        provider = registry.FACTS.get(name)
        found = provider(turn) if provider else None
        if found is None:
            continue
        grounded = True
        escalate = escalate or found.escalate
        facts.extend(found.facts)
        actions.extend(found.actions)
        template = intent.templates.get(found.template or "")
        if template:
            try:
                text = template.format_map(found.values)
            except (KeyError, IndexError, ValueError):
                pass   # a provider without one of the template's values: the general answer stays
    for name in intent.actions:   # a provider that found the user's records decided what applies (no retry
        # while an incident explains the failure, none for a reason a retry cannot fix): the bare names are not added
        if grounded and name in FOR_RECORDS:
            continue
        if name in registry.ACTIONS and ":" not in name and not any(a.name == name for a in actions):
            actions.append(Action(name, registry.LABELS.get(name, name)))
    if intent.kind == "topic":
        actions.append(Action(RESOLVED, registry.LABELS[RESOLVED]))
    return Reply(text=text, facts=tuple(facts), actions=tuple(actions), articles=articles(intent.articles),
                 escalate=escalate)


def _clarify(question: str, options) -> Reply:
    known = intents.all_intents()
    return Reply(text=question, actions=tuple(Action(f"clarify:{i}", known[i].label) for i in options if i in known))


def _search_answer(message: str, intent: Intent | None) -> Reply:
    from chalicelib.search import service as search

    try:
        found = search.search(message[:search.MAX_QUERY_CHARS], limit=SEARCH_ARTICLES)
    except Exception:  # a message the search refuses (or a missing index): the plain answer still helps
        found = None
    hits = tuple(Article(r.slug, r.title) for r in found.results) if found else ()
    if hits:
        return Reply(text="我不太确定您的问题，这些帮助文章可能有用；没有解决可以转人工。", articles=hits)
    fallback = intent.answer if intent else "这个问题我还回答不了。"
    return Reply(text=fallback + "如需帮助，可以转人工。")


def articles(slugs) -> tuple[Article, ...]:
    from chalicelib.search import service as search

    found: list[Article] = []
    for slug in slugs:
        try:
            article = search.get_article(slug)
        except Exception:   # the index is unavailable: the answer goes without its links
            return tuple(found)
        if article is not None:
            found.append(Article(article.slug, article.title))
    return tuple(found)


def _with_handover(reply: Reply, conversation: Conversation) -> Reply:
    """转人工 is always one tap away (unless this very reply is the handover)."""
    if reply.handover_case_id or conversation.case_id or any(a.id == HANDOVER for a in reply.actions):
        return reply
    return dataclasses.replace(reply, actions=(*reply.actions, Action(HANDOVER, registry.LABELS[HANDOVER])))


def _label_of(conversation: Conversation, action: str) -> str:
    for turn in reversed(conversation.turns):
        for offered in turn.actions:
            if offered.id == action:
                return offered.label
    return registry.LABELS.get(action.partition(":")[0], action)


def _anonymous(message: str | None, action: str | None) -> Reply:
    known = intents.all_intents()
    if action:
        name, _, argument = action.partition(":")
        if name != "clarify" or argument not in known:
            raise refusals.NotAllowed("请先登录，再使用这个功能。", code="sign_in_required", field="action")
        intent = known[argument]
        return Reply(text=intent.answer, articles=articles(intent.articles))
    assert message is not None
    found = understand.understand(message)
    if found.decision == "unclear":
        return _clarify("没太看懂您的意思，请用一句话说说遇到了什么问题，或者选一个：", UNCLEAR_TOPICS)
    if found.decision == "clarify":
        return _clarify("您是想问哪一个？", found.options)
    if found.decision == "search":
        return _search_answer(message, known.get(found.intent or ""))
    intent = known[found.intent or "out_of_scope"]
    return Reply(text=intent.answer, articles=articles(intent.articles))


def _record(before: Conversation, after: Conversation, user_id: str, intent_id: str | None, action: str | None,
            *, auto: bool = False) -> None:
    """Events for the self-service report: ids and intent names only (no text, no user but the opaque hash)."""
    user = user_hash(user_id)
    if before.version == 0:
        events.record("assistant.started", conversation=after.id, user=user)
    if action and action.startswith("clarify:"):
        events.record("assistant.clarified", conversation=after.id, intent=intent_id)
    elif intent_id:
        events.record("assistant.intent", conversation=after.id, intent=intent_id, via="action" if action else "text")
    name = (action or "").partition(":")[0]
    if name == HANDOVER or intent_id == HANDOVER or auto:
        by_itself: dict[str, Any] = {"auto": True} if auto else {}     # a failed flow's (failed.py)
        events.record("assistant.handover", conversation=after.id, intents=list(before.intents),
                      case=bool(after.case_id), **by_itself)
    elif name and name not in ("clarify", RESOLVED):
        events.record("assistant.action", conversation=after.id, action=name, intent=intent_id)
    if after.clarifying:
        events.record("assistant.clarifying", conversation=after.id, options=list(after.clarifying))
    if after.resolved and not before.resolved and not after.case_id:
        events.record("assistant.resolved", conversation=after.id, intents=list(after.intents), user=user)
