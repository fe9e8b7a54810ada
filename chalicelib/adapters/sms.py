"""Reaching a user's phone: the number lives in Cognito only, never in our tables or logs."""
from __future__ import annotations

from chalicelib.adapters import aws, cognito_users


def user_phone(username: str) -> str | None:
    if _memory is not None:
        return _memory.phones.get(username)
    return (cognito_users.attributes(username) or {}).get("phone_number")


def send_sms(phone: str, text: str) -> str:
    """Send one transactional SMS through SNS; returns the SNS message id."""
    if _memory is not None:
        _memory.sent.append((phone, text))
        return f"memory-{len(_memory.sent)}"
    response = aws.client("sns").publish(
        PhoneNumber=phone,
        Message=text,
        MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
    )
    return response["MessageId"]


class InMemorySms:
    """Phones by username and the texts sent, without Cognito or SNS (the fast tests)."""

    def __init__(self, phones: dict[str, str] | None = None) -> None:
        self.phones = dict(phones or {})
        self.sent: list[tuple[str, str]] = []


_memory: InMemorySms | None = None


def use(memory: InMemorySms | None) -> None:
    global _memory
    _memory = memory
