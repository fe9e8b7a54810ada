"""Canned replies (``macros.yaml``), rendered with a 工单's fields for the agent to preview and edit.

The texts are our own data, rendered in Jinja2's sandbox (no attribute access beyond plain values)
with ``StrictUndefined``, so a typo in a macro fails the tests instead of sending a blank.
"""
from __future__ import annotations

import functools
from pathlib import Path

import yaml

from chalicelib.escalation import notifications

MACROS_PATH = Path(__file__).resolve().parent / "macros.yaml"
STATUS_TITLES = {"verification_required": "待短信验证", "processing": "处理中", "succeeded": "已到账",
                 "failed": "失败", "cancelled": "已取消"}
KIND_LABELS = {"credit_card": "信用卡还款", "loan": "贷款还款", "utility": "生活缴费"}


def _loaded() -> tuple[dict, ...]:
    """The quick replies published in the workspace (``chalicelib/editions``, read at most every few seconds per
    container), else the packaged ``macros.yaml``."""
    from chalicelib.editions import service as editions  # imported on first use (not at cold start)
    found = editions.published("macros")
    return tuple(found[1]["macros"]) if found is not None else _packaged()


@functools.cache
def _packaged() -> tuple[dict, ...]:
    data = yaml.safe_load(MACROS_PATH.read_text(encoding="utf-8"))
    macros = tuple(data["macros"])
    ids = [m["id"] for m in macros]
    if len(ids) != len(set(ids)) or not all({"id", "title", "text", "await_user"} <= set(m) for m in macros):
        raise ValueError("macros.yaml: every macro needs a unique id, title, text and await_user")
    return macros


@functools.cache
def _environment():
    import jinja2  # cold start: jinja2 (~80 ms) loads with the first macro rendered
    from jinja2.sandbox import SandboxedEnvironment  # cold start: as above
    return SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


def payee_label(payee: dict) -> str:
    kind = payee.get("kind")
    if kind == "credit_card":
        return f"{payee.get('issuer', '')} 信用卡 尾号 {payee.get('card_last4', '')}"
    if kind == "loan":
        return f"{payee.get('platform', '')} 合同 {payee.get('contract_number', '')}"
    return f"{payee.get('biller', '')} 户号 {payee.get('account_number', '')}"


def repayment_fields(repayment: dict | None, time_zone: str) -> dict | None:
    """What a macro may say about a repayment (a ``RepaymentView`` body)."""
    if not repayment:
        return None
    failure = repayment.get("failure") or {}
    return {"amount": repayment["amount"], "total": repayment["total"],
            "status_title": STATUS_TITLES.get(repayment["status"], repayment["status"]),
            "kind_label": KIND_LABELS.get(repayment["kind"], repayment["kind"]),
            "payee_label": payee_label(repayment["payee"]),
            "created_local": notifications.local_time(repayment["created_at"], time_zone),
            "expected_date": (repayment.get("expected_arrival") or {}).get("date", ""),
            "failure_message": failure.get("message", "").rstrip("。"), "next_step": failure.get("next_step", ""),
            "retryable": bool(failure.get("retryable"))}


def featured_repayment(case: dict, repayments: list[dict]) -> dict | None:
    """The repayment a reply talks about: the one the 工单 names, else the latest failed one, else the latest."""
    for item in repayments:
        if item["id"] == case.get("repayment_id"):
            return item
    return next((r for r in repayments if r["status"] == "failed"), repayments[0] if repayments else None)


def rendered(case: dict, repayments: list[dict], *, hotline: str, security_line: str, time_zone: str) -> list[dict]:
    """Every macro rendered for this 工单 (``case``: a staff ``CaseView`` body)."""
    fields = {"reference": case["reference"], "category_title": case["category_title"],
              "step_title": case["step_title"], "deadline_local": case.get("deadline_local") or "",
              "username": case.get("user_id", ""), "hotline": hotline, "security_line": security_line,
              "repayment": repayment_fields(featured_repayment(case, repayments), time_zone)}
    env = _environment()
    return [{"id": m["id"], "title": m["title"], "await_user": bool(m["await_user"]),
             "text": env.from_string(m["text"]).render(**fields).strip()} for m in _loaded()]
