"""A lead resets a staff member's two-factor sign-in (lost phone, new phone): ``POST
/agent/staff/{username}/mfa-reset`` (the workspace form, ``GET`` the same path shows it) and ``POST
/support/staff/{username}/mfa-reset`` (the API), both through ``reset`` — senior-support only, never one's own.

The member's software-token MFA is switched off in the pool and their refresh tokens revoked
(``cognito.reset_totp``): their next sign-in with the password goes to enrolment (a new authenticator, ``mfa.py``),
and an open workspace session ends within the hour (when its ID token needs the revoked refresh token). The reset is
an access record first (``repay.service.record_access``, event ``staff_mfa_reset``: the lead, the member's id, when),
so the leads' access records (``/agent/access``) list it; nothing is reset if it cannot be written.
"""
from __future__ import annotations

import re

from chalicelib.edge import pages
from chalicelib.edge.pages import Reply
from chalicelib.kernel import refusals
from chalicelib.kernel.actor import MFA_REQUIRED_ROLES, SENIOR_SUPPORT, Actor
from chalicelib.kernel.clock import isoformat
from chalicelib.kernel.context import Context
from chalicelib.kernel.logs import logger, metric, user_hash
from chalicelib.web import cognito, session

_NAME = re.compile(r"^[\w.@+-]{1,128}$")
EVENT = "staff_mfa_reset"


def reset(actor: Actor, ctx: Context, username: str) -> dict:
    """Switch off ``username``'s authenticator (they enrol a new one at their next sign-in); an access record."""
    from chalicelib.repay import service as repay
    if not actor.has_role(SENIOR_SUPPORT):
        raise refusals.NotAllowed("只有客服主管可以重置员工的两步验证。", code="forbidden_role")
    if not _NAME.match(username or ""):
        raise refusals.Invalid("员工用户名格式不正确。", code="invalid_username")
    member = cognito.pool_user(username)
    if member is None or not member.groups & MFA_REQUIRED_ROLES:
        raise refusals.Missing("找不到这位员工。", code="staff_not_found")
    if member.sub == actor.user_id:
        raise refusals.NotAllowed("不能重置自己的两步验证，请请另一位客服主管操作。", code="own_mfa")
    record = repay.record_access(actor, ctx, user_id=member.sub, event=EVENT, case_ids=[])
    cognito.reset_totp(member.username)
    logger.info("staff two-factor reset", extra={"staff": user_hash(actor.user_id), "member": user_hash(member.sub),
                                                 "had_authenticator": member.totp})
    metric("StaffMfaReset")
    return {"username": member.username, "reset_at": isoformat(ctx.now), "had_authenticator": member.totp,
            "access_record": record["sk"]}


def _lead(request) -> session.WebSession:
    ws = session.require(request, "agent")
    if not ws.actor.has_role(SENIOR_SUPPORT):
        raise session.Forbidden("只有客服主管可以重置员工的两步验证。", code="forbidden_role")
    return ws


@pages.page("agent", titles={404: "找不到这位员工"})
def reset_form(request, username: str) -> Reply:
    """The confirmation form (lead only)."""
    from chalicelib.web.agent import _common
    ws = _lead(request)
    if not _NAME.match(username or ""):
        raise refusals.Invalid("员工用户名格式不正确。", code="invalid_username")
    return pages.html("web/agent_mfa_reset.html", title="重置两步验证", member=username, done=None, **_common(ws))


@pages.page("agent", titles={404: "找不到这位员工"})
def reset_post(request, username: str) -> Reply:
    from chalicelib.web.agent import _common
    ws = _lead(request)
    session.check_csrf(ws, pages.form(request))
    done = reset(ws.actor, Context.current(), username)
    return pages.html("web/agent_mfa_reset.html", title="重置两步验证", member=done["username"], done=done,
                      **_common(ws))
