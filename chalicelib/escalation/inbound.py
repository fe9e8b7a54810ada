"""Replies by e-mail, inbound: one raw mail (SES receipt rule → S3 → ``on_mail``; locally this module's command)
is added to its 工单 as the user's message, or refused, never both and never twice.

    make mail FILE=reply.eml        # = .venv/bin/python -m devtools.inbound_mail reply.eml (local stack running)

The checks, in order (the first that fails decides; ``docs/escalation.md`` "Replies by e-mail"):
size ≤ ``INBOUND_MAIL_MAX_BYTES`` (before the body is parsed) → not an auto-reply or a loop → one of our reply
addresses whose token verifies for that 工单's owner → From (and the envelope sender, when known) is the owner's
verified address → the 工单 is not closed → some new words or a file. A mail that passes is added once per
Message-ID (``casework.once``: a redelivery adds nothing); its files are checked with the evidence rules
(``attachments.py``: type by content, size, count) and stored like uploads. Every other mail is quarantined: the
raw mail (at most its first 256 KB) and a JSON record with the reason under ``quarantine/<day>/`` of the
attachments bucket, and a log line without addresses. A reply to a closed 工单 is quarantined too, with the note
the sender is owed (open a new 工单).
"""
from __future__ import annotations

import email
import email.policy
import hashlib
import json
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

from chalicelib.adapters import mailbox
from chalicelib.escalation import attachments, casework, inbound_store, quarantine_store, replymail, user_side
from chalicelib.escalation.model import Case
from chalicelib.kernel import clock, refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger

QUARANTINE_PREFIX = "quarantine/"
KEPT_BYTES = 256 * 1024
CLOSED_NOTE = "您回复的工单已关闭，邮件未添加到该工单。如问题仍未解决，请在「我的工单」中新建工单。"
AUTO_PRECEDENCE = frozenset({"bulk", "auto_reply", "junk", "list"})
RELEASABLE = frozenset({"unknown_sender"})   # a lead may add these to their 工单 (``quarantine.release``)
_STARTS = {"image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",), "application/pdf": (b"%PDF-",)}


@dataclass(frozen=True)
class Result:
    outcome: str                     # added | duplicate | quarantined
    reason: str = ""                 # why quarantined: too_large, auto_reply, loop, no_reply_address, forged_token,
                                     # unknown_sender, case_closed, empty, not_accepted
    case_id: str | None = None
    note: str = ""                   # what the sender is owed (a closed 工单)
    files: tuple[str, ...] = ()      # stored attachments' file names
    skipped: tuple[str, ...] = field(default=())   # files refused by the evidence rules, with why


def _kind(body: bytes) -> str | None:
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "image/webp"
    return next((ctype for ctype, starts in _STARTS.items() if body.startswith(starts)), None)


def _auto(message: EmailMessage, cfg) -> str | None:
    if (message.get("Auto-Submitted") or "no").strip().lower() != "no":
        return "auto_reply"
    if message.get("X-Autoreply") or message.get("X-Autorespond") or message.get("X-Auto-Response-Suppress"):
        return "auto_reply"
    if (message.get("Precedence") or "").strip().lower() in AUTO_PRECEDENCE:
        return "auto_reply"
    sender = parseaddr(str(message.get("From") or ""))[1].lower()
    if sender == cfg.sender_email.lower() or sender.endswith("@" + cfg.mail_domain.lower()):
        return "loop"
    return None


def _verdict(message: EmailMessage) -> str | None:
    """What SES found (the topmost headers are its own): spam, a virus, a From that fails DMARC."""
    if (message.get("X-SES-Virus-Verdict") or "").strip().upper() == "FAIL":
        return "virus"
    if (message.get("X-SES-Spam-Verdict") or "").strip().upper() == "FAIL":
        return "spam"
    if "dmarc=fail" in str(message.get("Authentication-Results") or "").lower():
        return "spoofed_sender"
    return None


def _recipients(message: EmailMessage, envelope_to: tuple[str, ...]) -> list[str]:
    fields = [str(value) for name in ("To", "Cc", "Delivered-To") for value in message.get_all(name, [])]
    return [address for _, address in getaddresses(fields)] + list(envelope_to)


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    text = replymail.html_to_text(content) if part.get_content_type() == "text/html" else content
    return replymail.strip_quoted(text)


def _files(case: Case, message: EmailMessage, ctx: Context) -> tuple[list[tuple[str, str, bytes]], list[str]]:
    """(file name, type, bytes) of each file the evidence rules accept; the refused ones' names and why."""
    room = attachments.MAX_PER_CASE - len(attachments.list_case(case.case_id))
    accepted: list[tuple[str, str, bytes]] = []
    skipped: list[str] = []
    for part in message.iter_attachments():
        name = part.get_filename() or "附件"
        payload = part.get_payload(decode=True)
        body = payload if isinstance(payload, bytes) else b""
        kind = _kind(body)
        if kind is None:
            skipped.append(f"{name}（只接受 PNG、JPEG、WebP 图片或 PDF）")
        elif len(body) > attachments.MAX_BYTES:
            skipped.append(f"{name}（超过 {attachments.MAX_BYTES // (1024 * 1024)} MB）")
        elif len(accepted) >= room:
            skipped.append(f"{name}（每个工单最多 {attachments.MAX_PER_CASE} 个附件）")
        else:
            accepted.append((attachments.safe_filename(name, kind), kind, body))
    return accepted, skipped


def masked(address: str) -> str:
    """How a lead sees a sender: the first character of the name and the domain (``a***@example.com``)."""
    local, at, domain = parseaddr(address)[1].lower().rpartition("@")
    return f"{local[:1]}***@{domain}" if at and local else ""


def quarantine(raw: bytes, reason: str, ctx: Context, *, case_id: str | None = None, note: str = "",
               size: int | None = None, sender: str = "") -> Result:
    """Keep the mail and why it was refused, for a lead (``/agent/mail``); nothing reaches a 工单. The raw mail is
    kept whole when a lead may release it (``RELEASABLE``), else its first 256 KB; the lead's record (masked
    sender, no address) is one item of the quarantine partition (``quarantine_store``)."""
    size = len(raw) if size is None else size
    kept = raw if reason in RELEASABLE and case_id else raw[:KEPT_BYTES]
    digest = hashlib.sha256(kept).hexdigest()[:24]
    key = f"{QUARANTINE_PREFIX}{ctx.now.strftime('%Y%m%d')}/{clock.isoformat(ctx.now)}-{digest}"
    at, mail_key = clock.isoformat(ctx.now), f"{key}.eml"
    record = {"reason": reason, "case_id": case_id, "at": at, "size": size, "kept_bytes": len(kept), "note": note,
              "mail": mail_key}
    store = attachments.backend()
    store.put(mail_key, kept, "message/rfc822", {"reason": reason})
    store.put(f"{key}.json", json.dumps(record, ensure_ascii=False).encode(), "application/json", {"reason": reason})
    quarantine_store.chosen().hold(quarantine_store.Quarantined(
        qid=f"q{ctx.now.strftime('%Y%m%d%H%M%S')}-{digest[:12]}", at=at, reason=reason, size=size,
        mail=mail_key, sender=masked(sender), case_id=case_id, note=note))
    logger.warning("inbound mail quarantined", extra={"reason": reason, "case_id": case_id, "size": size})
    return Result("quarantined", reason, case_id, note)


def on_mail(raw: bytes, ctx: Context, *, envelope_from: str | None = None,
            envelope_to: tuple[str, ...] = ()) -> Result:
    """Apply the checks to one raw mail and add it to its 工单, or quarantine it with the reason."""
    cfg = ctx.settings
    if len(raw) > cfg.inbound_mail_max_bytes:   # refused on its length alone: the body is never parsed
        return quarantine(raw, "too_large", ctx)
    message = parse(raw)
    sender = str(message.get("From") or "")
    automatic = _auto(message, cfg) or _verdict(message)
    if automatic:
        return quarantine(raw, automatic, ctx, sender=sender)
    envelope_from = envelope_from or (str(message.get("Return-Path") or "") or None)   # SES puts it on top
    tokens = [t for t in (replymail.parse(a, cfg) for a in _recipients(message, envelope_to)) if t is not None]
    if not tokens:
        return quarantine(raw, "no_reply_address", ctx, sender=sender)
    token = tokens[0]
    try:
        case = casework.load(token.case_id)
    except refusals.Missing:
        case = None
    if case is None or not replymail.verifies(token, case.user_id, cfg):
        return quarantine(raw, "forged_token", ctx, sender=sender)   # a missing 工单 looks like a forged token
    owner = mailbox.verified_email(case.username)
    senders = [parseaddr(str(message.get("From") or ""))[1].lower()]
    if envelope_from:
        senders.append(parseaddr(envelope_from)[1].lower())
    if owner is None or any(address != owner for address in senders):
        return quarantine(raw, "unknown_sender", ctx, case_id=case.case_id, sender=sender)
    if case.status == "closed":
        return quarantine(raw, "case_closed", ctx, case_id=case.case_id, note=CLOSED_NOTE, sender=sender)
    return _add(raw, message, case, ctx)


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def compose(message: EmailMessage, case: Case,
            ctx: Context) -> tuple[str, list[tuple[str, str, bytes]], tuple[str, ...]]:
    """What a mail adds to ``case``: the message text (marked as an e-mail, its files named, the refused ones with
    why), the accepted files and the refused ones; ("", [], ()) when it has neither words nor a file."""
    text = _text(message)
    files, skipped = _files(case, message, ctx)
    if not text and not files:
        return "", [], ()
    lines = [text or "（邮件未附文字）"]
    if files:
        lines.append("邮件附件：" + "、".join(name for name, _, _ in files))
    if skipped:
        lines.append("未接收的附件：" + "；".join(skipped))
    return "（通过邮件回复）\n" + "\n".join(lines), files, tuple(skipped)


def store_files(case_id: str, files: list[tuple[str, str, bytes]], ctx: Context) -> list[str]:
    """Store accepted files like uploads (``cases/<ref>/<id>/<name>``); their names."""
    for name, kind, body in files:
        attachment_id = attachments.new_id(ctx.now)
        attachments.backend().put(f"{attachments.prefix(case_id)}{attachment_id}/{name}", body, kind)
    return [name for name, _, _ in files]


def _add(raw: bytes, message: EmailMessage, case: Case, ctx: Context) -> Result:
    said, files, skipped = compose(message, case, ctx)
    if not said:
        return quarantine(raw, "empty", ctx, case_id=case.case_id, sender=str(message.get("From") or ""))
    message_id = str(message.get("Message-ID") or "").strip() or hashlib.sha256(raw).hexdigest()
    key = "mail-" + hashlib.sha256(message_id.encode()).hexdigest()[:40]
    added: list[str] = []

    def first() -> None:   # before the message that names them; only on a mail's first delivery
        added.extend(store_files(case.case_id, files, ctx))

    actor = Actor(case.user_id, case.username, frozenset())
    try:
        outcome = user_side.add_user_message(actor, ctx, case.case_id, said, key, first=first)
    except refusals.DomainError as exc:   # the 工单 moved on (resolved) or a rule refused: keep the mail
        return quarantine(raw, "not_accepted", ctx, case_id=case.case_id, note=str(exc))
    if outcome.replayed:
        return Result("duplicate", case_id=case.case_id)
    logger.info("inbound mail added", extra={"case_id": case.case_id, "files": len(added), "skipped": len(skipped)})
    return Result("added", case_id=case.case_id, files=tuple(added), skipped=skipped)


def receive_object(bucket: str, key: str, ctx: Context) -> Result:
    """One mail SES stored (the queue's S3 notification names it): its size first, then its bytes."""
    if bucket != ctx.settings.inbound_mail_bucket or not key.startswith("inbound/"):
        raise ValueError("not an inbound mail")
    size = inbound_store.size(bucket, key)
    if size > ctx.settings.inbound_mail_max_bytes:   # only its beginning is read, to keep in quarantine
        return quarantine(inbound_store.read(bucket, key, most=KEPT_BYTES), "too_large", ctx, size=size)
    return on_mail(inbound_store.read(bucket, key), ctx)
