"""The 智能客服 chat page (``/help/assistant``): the assistant's conversation for a signed-in wallet user.

Same session as the other help pages (``session.require(request, "help")``), the same facade as the API
(``assistant.service.take_turn`` with the session's user), so another user's conversation is a 404 page here
as it is a 404 there. It works without script: each message or button is one form POST (CSRF checked, a
per-render ``idempotency_key`` so a double-submitted form or a re-sent tap acts once) answered 303 to the page,
which shows the whole transcript. With script, the same form is sent to ``/help/assistant/turns`` and the
answer (JSON: the reply and a fresh key) is added to the transcript without a reload.
"""
from __future__ import annotations

import secrets
from urllib.parse import quote

from chalicelib.adapters import idempotency, ratelimit
from chalicelib.assistant import service as assistant
from chalicelib.assistant.model import HANDOVER, MAX_TEXT, Conversation
from chalicelib.assistant.model import Reply as AssistantReply
from chalicelib.edge import errors, pages
from chalicelib.edge.pages import Reply
from chalicelib.kernel import refusals
from chalicelib.kernel.context import Context
from chalicelib.web import script_json, session

DOOR = "help"
PATH = "/help/assistant"
WELCOME = "您好，我是本钱包智能客服。请用一句话说说遇到了什么问题，例如“还款失败了”“扣款了没到账”“收不到验证码”。"


def _key() -> str:
    return secrets.token_urlsafe(18)


def _transcript(conversation: Conversation | None) -> list[dict]:
    if conversation is None:
        return []
    return [{"who": t.who, "text": t.text, "facts": list(t.facts),
             "articles": [{"slug": a.slug, "title": a.title} for a in t.articles]} for t in conversation.turns]


def _render(ws: session.WebSession, conversation: Conversation | None, *, status: int = 200, error: str = "",
            text: str = "", article: dict | None = None, about: tuple[str, AssistantReply] | None = None) -> Reply:
    """``about``: (repayment id, the opening answer) of a conversation not started yet (``?repayment=``): shown as
    the first answer with its buttons; the form carries the id, so the first post starts the conversation."""
    last = conversation.turns[-1] if conversation and conversation.turns else None
    offered = about[1].actions if about else (last.actions if last else ())
    actions = [{"id": a.id, "label": a.label} for a in offered if a.id != HANDOVER]
    handed_over = bool(conversation and conversation.case_id)
    turns = _transcript(conversation) + ([{"who": "assistant", "text": about[1].text, "facts": list(about[1].facts),
                                           "articles": [{"slug": a.slug, "title": a.title} for a in about[1].articles]}]
                                         if about else [])
    return pages.html("web/assistant.html", status=status, door=DOOR, ws=ws, title="智能客服", welcome=WELCOME,
                      turns=turns, actions=actions, handover=not handed_over,
                      conversation_id=conversation.id if conversation else "", idempotency_key=_key(),
                      error=error, text=text, max_text=MAX_TEXT, article=article, case_id=conversation and
                      conversation.case_id, repayment_id=about[0] if about else "")


def _about(ws: session.WebSession, repayment_id: str) -> Reply:
    """``?repayment=<id>`` (the failure notice's 「问智能客服」): that repayment's facts as the first answer, read
    only (nothing is stored until the user answers); another user's id is a polite refusal on the page (404)."""
    try:
        first, _ = assistant.opening(Context.current(), ws.actor.user_id, repayment_id[:64], ws.actor)
    except refusals.Missing as exc:
        return _render(ws, None, status=404, error=exc.message)
    return _render(ws, None, about=(repayment_id, first))


def _article(slug: str | None) -> dict | None:
    if not slug or len(slug) > 80:
        return None
    found = assistant.articles([slug])
    return {"slug": found[0].slug, "title": found[0].title} if found else None


@pages.page(DOOR, titles={404: "没有找到这段对话"}, back=(PATH, "回到智能客服"))
def chat_page(request) -> Reply:
    ws = session.require(request, DOOR)
    query = request.query_params or {}
    wanted = (query.get("c") or "")[:128] or None
    if query.get("repayment"):
        return _about(ws, query["repayment"])
    if query.get("new"):
        return _render(ws, None, article=_article(query.get("article")))
    conversation = assistant.conversation(ws.actor.user_id, wanted)
    if wanted and conversation is None:
        raise refusals.Missing("没有找到这段对话。", code="conversation_not_found")
    return _render(ws, conversation, article=_article(query.get("article")))


def _turn(request) -> tuple[session.WebSession, dict, dict]:
    """The form's turn, run once per ``idempotency_key``: the JSON body of the API's answer."""
    ws = session.require(request, DOOR)
    form = pages.form(request)
    session.check_csrf(ws, form)
    conversation_id = (form.get("conversation_id") or "")[:128] or None
    action = (form.get("action") or "").strip()[:200] or None
    repayment_id = None if conversation_id else (form.get("repayment_id") or "")[:64] or None
    text = None if action else form.get("text", "")
    payload = {"conversation_id": conversation_id, "action": action, "text": text, "repayment_id": repayment_id}
    key = form.get("idempotency_key") or None

    def run(_claim) -> idempotency.Outcome:      # the same limit as the API's turns (a replay does not count)
        ratelimit.hit("assistant_turn", ws.actor.user_id)
        result = assistant.take_turn(Context.current(), ws.actor.user_id, conversation_id=conversation_id,
                                     text=text, action=action, actor=ws.actor, repayment_id=repayment_id)
        return idempotency.Outcome(200, _body(result.conversation_id, result.reply))

    outcome = idempotency.once(ws.actor.user_id, key, scope=f"ASSISTANT_PAGE#{conversation_id or 'new'}",
                               payload=payload, action=run)
    return ws, form, outcome.body


def _body(conversation_id: str | None, reply: AssistantReply) -> dict:
    return {"conversation_id": conversation_id, "text": reply.text, "facts": list(reply.facts),
            "actions": [{"id": a.id, "label": a.label} for a in reply.actions if a.id != HANDOVER],
            "handover": not reply.handover_case_id and any(a.id == HANDOVER for a in reply.actions),
            "articles": [{"slug": a.slug, "title": a.title} for a in reply.articles],
            "case_id": reply.handover_case_id}


@pages.page(DOOR, back=(PATH, "回到智能客服"))
def post_turn(request) -> Reply:
    """The form without script: one turn, then 303 back to the page (its transcript shows the answer)."""
    try:
        ws, _, body = _turn(request)
    except refusals.DomainError as exc:
        if not exc.field:
            raise
        ws = session.require(request, DOOR)
        form = pages.form(request)
        refusal = errors.from_domain(exc)
        conversation = assistant.conversation(ws.actor.user_id, (form.get("conversation_id") or "")[:128] or None)
        about = None
        if conversation is None and form.get("repayment_id") and exc.field != "repayment_id":
            try:       # the opening stays on the page with the error under it
                about = (form["repayment_id"][:64], assistant.opening(Context.current(), ws.actor.user_id,
                                                                      form["repayment_id"][:64], ws.actor)[0])
            except refusals.Missing:
                about = None
        return _render(ws, conversation, status=refusal.status, error=refusal.message,
                       text=(form.get("text") or "")[:MAX_TEXT], about=about)
    return pages.redirect(f"{PATH}?c={quote(body['conversation_id'] or '')}#latest")


@script_json.refusals_as_json
def post_turn_json(request) -> Reply:
    """The form with script: the same turn, answered in JSON with the key for the next one."""
    _, _, body = _turn(request)
    return _json({**body, "next_key": _key()})


_json = script_json.reply
