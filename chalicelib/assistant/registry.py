"""Where an intent's ``lookup`` and ``actions`` plug in: fact providers and action handlers, keyed by name.

``intents.yaml`` names them; this module maps each name to a function. A name with nothing registered is
skipped (the intent still gets its general answer), so intents can be written before their providers.

- A **fact provider** ``provider(turn: TurnContext) -> Facts | None`` reads the signed-in user's records
  through another domain's published facade and returns what the reply should state: ``facts`` (lines
  shown as a list), ``values`` and ``template`` (the name of one of the intent's ``templates``, filled with
  ``values`` to replace the general answer) and ``actions`` that apply (``retry_repayment:<id>``).
  ``None``: nothing to say for this user. Register with ``@fact("failed_repayment")``.
- An **action handler** ``handler(turn: TurnContext, argument: str) -> model.Reply`` runs a tapped action
  (``"retry_repayment:<id>"`` → name ``retry_repayment``, argument ``<id>``) through the service that owns
  it, with that service's own checks; it raises that service's refusals as usual. The engine only lets a
  user tap what the last answer offered (or 转人工), once per Idempotency-Key. Register with
  ``@action("retry_repayment")``. A name listed in an intent's ``actions`` without an argument is offered
  as-is (label: ``LABELS``) when its handler is registered.

The engine's own actions (``clarify:<intent>``, ``resolved``) are not here; ``handover`` is registered
below with a plain answer, meant to be replaced by the handover that opens a 工单 (``@action("handover")``
again replaces it; the handler may set ``Reply.handover_case_id``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from chalicelib.assistant.model import Action, Conversation, Intent, Reply
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context


@dataclass(frozen=True)
class TurnContext:
    ctx: Context
    user_id: str
    conversation: Conversation
    intent: Intent | None = None
    text: str = ""                  # the user's (masked) message, when the turn is a message
    actor: Actor | None = None      # the caller (token's or session's: user name for a handover 工单)
    raw: str = field(default="", repr=False)   # the message as typed, numbers unmasked: in memory only, for the
    #                                 number check (``verify_number``); never stored, logged or in an event
    failure: str = ""               # a failed flow's handover (``failed.py``): why, for the 工单's "已尝试"
    said: str = ""                  # … and the answer that could not help (not in the conversation yet)


@dataclass(frozen=True)
class Facts:
    facts: tuple[str, ...] = ()
    values: dict[str, str] = field(default_factory=dict)
    template: str | None = None
    actions: tuple[Action, ...] = ()
    escalate: str | None = None     # the flow failed (a retry that failed again): hand over by itself (failed.py)


FactProvider = Callable[[TurnContext], "Facts | None"]
ActionHandler = Callable[[TurnContext, str], Reply]

FACTS: dict[str, FactProvider] = {}
ACTIONS: dict[str, ActionHandler] = {}
LABELS: dict[str, str] = {"handover": "转人工", "resolved": "问题已解决"}


def fact(name: str) -> Callable[[FactProvider], FactProvider]:
    def register(provider: FactProvider) -> FactProvider:
        FACTS[name] = provider
        return provider
    return register


def action(name: str, label: str | None = None) -> Callable[[ActionHandler], ActionHandler]:
    def register(handler: ActionHandler) -> ActionHandler:
        ACTIONS[name] = handler
        if label:
            LABELS[name] = label
        return handler
    return register


@action("handover", "转人工")
def _handover(turn: TurnContext, argument: str) -> Reply:
    """Until a 工单 is opened here: where a person answers (「我的工单」 → 提交新工单)."""
    return Reply(text="好的，请在「我的工单」中提交新工单，人工客服会尽快回复您；您在这里说过的情况不必重复。")
