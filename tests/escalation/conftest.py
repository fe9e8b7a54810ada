"""Escalation fixtures: a frozen clock on a business morning, the sweep, team inboxes, captured e-mails."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
# Tuesday 2026-11-24 10:00 in Shanghai: a business day, inside opening hours.
BUSINESS_MORNING = dt.datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)


def key() -> dict:
    """A fresh Idempotency-Key header (required on escalate)."""
    return {"Idempotency-Key": uuid.uuid4().hex}


@pytest.fixture
def clock(aws):
    from chalicelib.kernel import clock as clock_module
    clock_module.freeze(BUSINESS_MORNING)
    yield clock_module
    clock_module.reset()


@pytest.fixture
def sweep(clock):
    from chalicelib.escalation import service
    from chalicelib.kernel.context import Context

    def run():
        return service.sweep(Context.current())
    return run


@pytest.fixture
def inbox(aws):
    """``inbox("senior")`` → messages the senior team's queue received since the last call (deduplicated)."""
    from devtools import team_inbox
    return lambda team, consumer=None: team_inbox.receive(team, consumer=consumer)


@pytest.fixture
def emails_sent(aws):
    """E-mails moto's SES captured (SendEmail: the teams'): list of (to-addresses, subject, body)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses import ses_backends

    def read():
        backend = ses_backends[DEFAULT_ACCOUNT_ID]["ap-southeast-1"]
        return [(m.destinations["ToAddresses"], m.subject, m.body) for m in backend.sent_messages
                if hasattr(m, "subject")]   # the users' e-mails are raw (SendRawEmail): ``user_mails``
    return read


@pytest.fixture
def user_mails(aws):
    """The e-mails to users moto's SES captured (SendRawEmail), parsed: list of ``EmailMessage``."""
    import email
    import email.policy

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses import ses_backends

    def read():
        backend = ses_backends[DEFAULT_ACCOUNT_ID]["ap-southeast-1"]
        return [email.message_from_string(m.raw_data, policy=email.policy.default) for m in backend.sent_messages
                if hasattr(m, "raw_data")]
    return read


@pytest.fixture
def open_case(api):
    def create(user, category="repayment_delay", description="还款三天了还没到账，请帮忙查询", **extra):
        response = api.post("/support/cases", token=user.token,
                            json_body={"category": category, "description": description, **extra})
        assert response.status == 201, response.text
        return response.json
    return create


@pytest.fixture
def frozen_accounts(monkeypatch):
    """Stand-in for the repay domain's freeze API where the freeze itself is not what a test checks."""
    from chalicelib.repay import service as repay_service
    frozen: dict[str, str] = {}
    monkeypatch.setattr(repay_service, "freeze_account",
                        lambda user_id, *, reason, case_id: frozen.setdefault(user_id, case_id))
    monkeypatch.setattr(repay_service, "unfreeze_account", lambda user_id, *, actor: frozen.pop(user_id, None))
    monkeypatch.setattr(repay_service, "is_frozen", lambda user_id: user_id in frozen)
    return frozen
