"""Replies by e-mail, the rules: the signed reply address of a 工单, the threading headers, and what of a reply's
text is the user's own words (quoted history and HTML stripped). No I/O here; ``inbound.py`` applies them.

Address: ``reply+<version>.<case ref>.<mac>@<MAIL_DOMAIN>``, all lower case (mail systems may fold the local
part). ``mac`` is HMAC-SHA256 over version, reference and the owner's user id under ``MAIL_REPLY_SECRET``
(per stage, never logged), base32, 26 characters (130 bits): knowing a reference is not enough to write into
a 工单, and a token for one user's 工单 never verifies for another's.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from chalicelib.config import Settings

_TOKEN = re.compile(r"^reply\+(?P<version>[0-9a-z]{1,8})\.(?P<ref>rd-\d{8}-[0-9a-z]{4,8})\.(?P<mac>[a-z2-7]{26})$")


@dataclass(frozen=True)
class Token:
    version: str
    case_id: str
    mac: str


def _mac(secret: str, version: str, case_id: str, user_id: str) -> str:
    digest = hmac.new(secret.encode(), f"{version}|{case_id.upper()}|{user_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower()[:26]


def reply_address(case_id: str, user_id: str, cfg: Settings) -> str | None:
    """The address a user's reply to a mail about this 工单 goes to; None when no key is configured."""
    if not cfg.mail_reply_secret:
        return None
    version = cfg.mail_reply_key_version.lower()
    mac = _mac(cfg.mail_reply_secret, version, case_id, user_id)
    return f"reply+{version}.{case_id.lower()}.{mac}@{cfg.mail_domain}"


def parse(address: str, cfg: Settings) -> Token | None:
    """The token in one of our reply addresses (not yet verified); None for any other address."""
    local, _, domain = address.strip().lower().rpartition("@")
    if domain != cfg.mail_domain.lower():
        return None
    found = _TOKEN.match(local)
    if not found:
        return None
    return Token(found["version"], found["ref"].upper(), found["mac"])


def verifies(token: Token, user_id: str, cfg: Settings) -> bool:
    """The token was made by us, with the current key version, for this 工单 of this user."""
    if not cfg.mail_reply_secret or token.version != cfg.mail_reply_key_version.lower():
        return False
    return hmac.compare_digest(token.mac, _mac(cfg.mail_reply_secret, token.version, token.case_id, user_id))


def headers(case_id: str, user_id: str, version: int, cfg: Settings) -> dict[str, str]:
    """Reply-To, Message-ID and References of an e-mail to the user about this 工单: replies come back signed
    and thread under the 工单's first message."""
    thread = f"<{case_id.lower()}@{cfg.mail_domain}>"
    found = {"Message-ID": f"<{case_id.lower()}.v{version}@{cfg.mail_domain}>", "References": thread,
             "In-Reply-To": thread}
    address = reply_address(case_id, user_id, cfg)
    if address:
        found["Reply-To"] = address
    return found


# Where the quoted history starts (everything from that line on is dropped).
_HISTORY = (
    re.compile(r"^\s*-{2,}\s*(original message|原始邮件|原邮件)\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*在.{1,200}写道[:：]?\s*$"),
    re.compile(r"^\s*on .{1,300} wrote:\s*$", re.IGNORECASE),
    re.compile(r"^\s*(from|发件人)[:：]\s*.+$", re.IGNORECASE),
)


def _starts_history(line: str, following: str) -> bool:
    """A quoted-history marker on this line, or wrapped over this line and the next (Gmail's plain part breaks a
    long "On …, Name <address> wrote:" in two)."""
    return any(marker.match(line) for marker in _HISTORY) or (
        bool(following) and any(marker.match(f"{line} {following}") for marker in _HISTORY[1:3]))


def strip_quoted(text: str) -> str:
    """The user's new words: up to the first quoted-history marker, without ``>`` quoted lines."""
    kept: list[str] = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, line in enumerate(lines):
        if _starts_history(line, lines[number + 1].strip() if number + 1 < len(lines) else ""):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


class _Text(HTMLParser):
    _SKIP = frozenset({"script", "style", "head", "title", "blockquote"})
    _BREAK = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BREAK:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self._SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self._BREAK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Only the text of an HTML part (no markup, scripts, styles or ``<blockquote>`` history survives)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.strip() for line in text.split("\n"))).strip()
