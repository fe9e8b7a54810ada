"""The assistant (``chalicelib/assistant``, #24): a turn of a signed-in user's conversation, and the anonymous
variant (knowledge-base answers only, nothing stored), and the chat page ``/help/assistant`` for a signed-in user
(``chalicelib/web/assistant_chat.py``, the help-door session)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.adapters import ratelimit
from chalicelib.edge import httpio, replies
from chalicelib.edge.lazy import lazy_import, lazy_schemas
from chalicelib.edge.openapi import api_contract
from chalicelib.routes.auth import cognito_jwt

assistant = lazy_import("chalicelib.assistant.service")
assistant_schemas = lazy_schemas("chalicelib.assistant.schemas")
views = lazy_import("chalicelib.assistant.schemas")   # turn_view: the reply as its JSON body
chat = lazy_import("chalicelib.web.assistant_chat")

bp = Blueprint(__name__)


@bp.route("/assistant/turns", methods=["POST"], authorizer=cognito_jwt)
@api_contract("One turn with the 智能客服: a message or a tapped button (an action runs once per Idempotency-Key); "
              "another user's conversation is 404", tag="assistant", body=assistant_schemas.TurnRequest,
              headers=replies.OPTIONAL_IDEMPOTENCY_HEADER, responses={200: assistant_schemas.TurnResponse},
              errors=(400, 404, 409, 422, 423, 429, 503))
def assistant_turn():
    def turn(call: replies.Call) -> dict:   # a replayed answer (same Idempotency-Key) does not count against the limit
        ratelimit.hit("assistant_turn", call.who.user_id)
        result = assistant.take_turn(call.context, call.who.user_id, conversation_id=call.input.conversation_id,
                                     text=call.input.text, action=call.input.action, actor=call.who)
        return views.turn_view(result.conversation_id, result.reply, result.reply.handover_case_id)

    return replies.replay(bp.current_request, lambda call: f"ASSISTANT#{call.input.conversation_id or 'new'}", turn,
                          body=assistant_schemas.TurnRequest,
                          key_required=lambda call: bool(call.input.action))   # a tapped button runs once


@bp.route("/assistant/public/turns", methods=["POST"])
@api_contract("The 智能客服 for anonymous visitors: knowledge-base answers and clarifying buttons only, nothing "
              "stored (sign in for your own repayments, actions and 转人工)", tag="assistant",
              body=assistant_schemas.PublicTurnRequest, responses={200: assistant_schemas.TurnResponse},
              errors=(400, 403, 429, 503))
def assistant_public_turn():
    def turn(call: replies.Call) -> dict:
        ratelimit.hit("assistant_public", httpio.client_key(call.request))     # per client: nobody is signed in
        result = assistant.take_turn(call.context, None, text=call.input.text, action=call.input.action)
        return views.turn_view(None, result.reply)

    return replies.answer(bp.current_request, turn, body=assistant_schemas.PublicTurnRequest)


# ---------------------------------------------------------------- the chat page (help-door session)
@bp.route("/help/assistant", methods=["GET"])
@api_contract("The 智能客服 chat page (HTML; the help-door session, without one 303 to /help/login; ?c= a "
              "conversation — another user's is a 404 page; ?new=1 a new one)", tag="assistant",
              responses={200: None, 404: None}, html=True)
def assistant_page():
    return replies.page(chat.chat_page(bp.current_request))


@bp.route("/help/assistant", methods=["POST"], content_types=replies.FORM)
@httpio.surface_errors
def assistant_page_turn():
    """One turn from the page's form without script (CSRF; once per idempotency_key): 303 to the page."""
    return replies.page(chat.post_turn(bp.current_request))


@bp.route("/help/assistant/turns", methods=["POST"], content_types=replies.FORM)
@httpio.surface_errors
@replies.answers_json
def assistant_page_turn_json():
    """The page's script: the same turn, answered in JSON (the reply and the next idempotency key)."""
    return replies.page_json(chat.post_turn_json(bp.current_request))
