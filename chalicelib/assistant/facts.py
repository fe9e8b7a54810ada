"""Facts from the user's own records, read through the other domains' facades only (repay, bills, escalation,
the contacts directory): which repayment, its amount and status, why it failed in plain words, when it
arrives, the due date and whether it will be late, the 工单's status. Each provider answers a ``Grounded``:
the sentence the user reads, the facts as label/value pairs and the actions that apply to them (offered as
ids the action handlers in ``actions.py`` understand).

Nothing here writes. A card shows only its last four digits (the repay domain never stores more); no internal
code, staff name or id reaches the wording.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from chalicelib.kernel import refusals
from chalicelib.kernel.actor import Actor
from chalicelib.kernel.context import Context

# ---------------------------------------------------------------- the failure codes in words a user understands
# The repay domain's codes (``repay.model.FAILURES``) and those a real bank connector may add; anything else
# falls back to the repay domain's own message.
FAILURE_WORDS = {
    "insufficient_funds": "付款卡余额不足，银行没能扣款，这次没有扣您的钱。",
    "card_expired": "付款卡已过期，银行没能扣款，这次没有扣您的钱。",
    "limit_exceeded": "超过了付款卡或银行的单笔/单日限额，这次没有扣您的钱。",
    "biller_unavailable": "收款机构暂时无法受理，这次没有扣您的钱。",
    "maintenance": "银行系统正在维护，暂时处理不了，这次没有扣您的钱。",
    "network_error": "和银行的连接中断了，这笔没有完成，钱不会被扣两次。",
    "invalid_account": "收款账户信息不对（卡号、合同号或户号无效），重试也不会成功，需要核对后重新还款。",
}
FAILURE_ADVICE = {
    "insufficient_funds": "充值或换一张付款卡后，点“重试还款”即可。",
    "card_expired": "换一张有效的付款卡后再还款。",
    "limit_exceeded": "可以分几笔还，或联系发卡行调整限额。",
    "biller_unavailable": "通常稍后就能恢复，可以稍后点“重试还款”。",
    "maintenance": "维护结束后（通常几小时内）点“重试还款”即可。",
    "network_error": "现在点“重试还款”即可。",
    "invalid_account": "请核对收款信息后重新发起还款；需要帮忙可以转人工。",
}
STATUS_WORDS = {"verification_required": "等待短信验证", "processing": "处理中", "succeeded": "已到账",
                "failed": "还款失败", "cancelled": "已取消（未扣款）"}

# Words that point at one kind of repayment (a plain "还款" leans to cards and loans, not utility bills).
KIND_HINTS = {
    "credit_card": ("信用卡", "卡还款", "招行", "工行", "银行卡", "xinyongka"),
    "loan": ("贷款", "借款", "借呗", "微粒贷", "分期", "网贷", "daikuan"),
    "utility": ("电费", "水费", "燃气", "煤气", "缴费", "话费", "物业"),
}
REPAYMENT_ID = re.compile(r"rp_[0-9a-f]{20}")
LINK_REPAYMENT = "/help/repayments/{id}"
LINK_CASE = "/help/cases/{id}"


@dataclass(frozen=True)
class Fact:
    label: str
    value: str
    href: str | None = None

    def as_dict(self) -> dict:
        return {"label": self.label, "value": self.value, **({"href": self.href} if self.href else {})}


@dataclass(frozen=True)
class Offer:
    """An action the reply offers: ``id`` is what a tap sends back (``actions.py`` parses it)."""
    id: str
    label: str

    def as_dict(self) -> dict:
        return {"id": self.id, "label": self.label}


@dataclass(frozen=True)
class Grounded:
    """What a provider or an action found: the reply's text, facts and offered actions, and what it is about."""
    text: str
    facts: tuple[Fact, ...] = ()
    actions: tuple[Offer, ...] = ()
    repayment_id: str | None = None
    case_id: str | None = None
    done: str | None = None           # an action that ran: what it did, in the transcript's words
    failed: bool = False              # the flow could not help (a handover is suggested)
    escalate: str | None = None       # … and cannot be fixed by the user: hand over by itself (``failed.py``)
    extra: dict = field(default_factory=dict)

    def reply(self) -> dict:
        return {"text": self.text, "facts": [f.as_dict() for f in self.facts],
                "actions": [a.as_dict() for a in self.actions]}


HANDOVER = Offer("handover", "转人工")


# ---------------------------------------------------------------- repayments
def _repay():
    from chalicelib.repay import service  # cold start: the repay domain loads when a turn needs it
    return service


def _repay_model():
    from chalicelib.repay import model
    return model


def local_time(value: str | None, ctx: Context) -> str:
    """An ISO instant as the user reads it: ``12月9日 17:00`` in the service's time zone."""
    if not value:
        return ""
    from chalicelib.kernel import clock
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    local = moment.astimezone(clock.zone(ctx.settings.time_zone))
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def day_words(value: str) -> str:
    day = dt.date.fromisoformat(value[:10])
    return f"{day.month}月{day.day}日"


def payee_words(view: dict) -> str:
    """Whom a repayment paid, masked: ``招商银行 信用卡 尾号 4324`` (the view holds the last four digits only)."""
    payee = view.get("payee") or {}
    try:
        return _repay_model().mask_payee(payee)
    except (KeyError, TypeError):
        return _repay().KIND_LABELS.get(view.get("kind", ""), "还款")


def failure_words(view: dict) -> tuple[str, str]:
    """(what happened, what to do) for a failed repayment's view, in plain words and without its code."""
    failure = view.get("failure") or {}
    code = failure.get("reason", "")
    return (FAILURE_WORDS.get(code, failure.get("message") or "银行没有受理这笔还款，这次没有扣您的钱。"),
            FAILURE_ADVICE.get(code, failure.get("next_step") or "需要帮忙可以转人工。"))


def mentioned_kinds(text: str) -> set[str]:
    low = (text or "").lower()
    return {kind for kind, words in KIND_HINTS.items() if any(w in low for w in words)}


def pick(items: list[dict], statuses: tuple[str, ...], text: str) -> dict | None:
    """The latest relevant repayment: of the wanted statuses (in that order of preference), of a kind the text
    names if it names one, else a card or loan before a utility bill when the user says 还款."""
    kinds = mentioned_kinds(text)
    plain_repayment = not kinds and "还" in (text or "")

    def rank(item: dict) -> tuple:
        status_rank = statuses.index(item["status"]) if item["status"] in statuses else len(statuses)
        kind_rank = 0 if (item["kind"] in kinds if kinds else not (plain_repayment and item["kind"] == "utility")) \
            else 1
        return (status_rank, kind_rank)
    # newest first already (the history's order): a stable sort keeps the newest of each rank first
    ranked = sorted(items, key=rank)
    return ranked[0] if ranked else None


def load_repayment(actor: Actor, ctx: Context, repayment_id: str) -> dict | None:
    """One of the caller's own repayments (the full view), or None (missing or someone else's: the same)."""
    repay = _repay()
    try:
        return repay.get(actor, repayment_id, ctx)
    except refusals.Missing:
        return None


def recent(actor: Actor, ctx: Context, limit: int = 20) -> list[dict]:
    from chalicelib.repay import schemas as repay_schemas
    repay = _repay()
    return list(repay.history(actor, repay_schemas.ListQuery(limit=limit), ctx)["items"])


def retry_arrival(view: dict, ctx: Context) -> tuple[str, bool | None]:
    """If retried now: when it would arrive (words) and whether that is after the due date (None: no due date)."""
    repay, model = _repay(), _repay_model()
    rules = repay.rules_of(ctx)
    arrival = model.estimate_arrival(rules.schedule.rules(view["kind"]).arrival, ctx.now, rules.calendar)
    due = view.get("due_date")
    late = None if not due else model.due_date_warning(arrival, dt.date.fromisoformat(due)) is not None
    return local_time(arrival.expected_at.isoformat(), ctx), late


def repayment_facts(actor: Actor, ctx: Context, *, text: str = "", statuses: tuple[str, ...] = ("failed",),
                    repayment_id: str | None = None) -> Grounded:
    """The facts of the repayment the user means (named by id in the text or ``repayment_id``, else the latest
    of ``statuses``) and the actions that apply to it."""
    named = repayment_id or next(iter(REPAYMENT_ID.findall(text or "")), None)
    view = load_repayment(actor, ctx, named) if named else None
    if named and view is None:
        return Grounded("我没有找到这笔还款记录（只能查看您本人的还款）。可以在“我的还款”里确认一下。",
                        actions=(HANDOVER,), failed=True)
    if view is None:
        chosen = pick(recent(actor, ctx), statuses, text)
        if chosen is None:
            return Grounded("您最近没有还款记录。如果是在其他渠道还的款，请联系对应的银行或平台。", actions=(HANDOVER,))
        view = load_repayment(actor, ctx, chosen["id"]) or chosen
    return describe(view, ctx)


def incident_words(view: dict) -> str | None:
    """What an open settlement incident says about this failed repayment (escalation's incidents, #24 item 5),
    or None — then a retry is offered as usual. Read through the escalation facade when it publishes
    ``incident_for_repayment``."""
    if view.get("status") != "failed":
        return None
    from chalicelib.escalation import service as escalation
    finder = getattr(escalation, "incident_for_repayment", None)
    found = finder(view) if finder is not None else None
    return getattr(found, "user_sentence", None) if found is not None else None


def describe(view: dict, ctx: Context, *, incident: str | None = None) -> Grounded:
    """One repayment's facts and the actions its state allows (no retry while an incident explains the failure)."""
    rid, status = view["id"], view["status"]
    incident = incident or incident_words(view)
    facts = [Fact("还款", f"{_repay().KIND_LABELS.get(view['kind'], '还款')} · {payee_words(view)}",
                  LINK_REPAYMENT.format(id=rid)),
             Fact("金额", f"{view['amount']} 元"),
             Fact("状态", STATUS_WORDS.get(status, status))]
    offers: list[Offer] = []
    head = f"您{local_time(view.get('created_at'), ctx)}提交的这笔还款（{payee_words(view)}）{view['amount']} 元"
    due, late = view.get("due_date"), None
    if status == "failed":
        what, advice = failure_words(view)
        facts.append(Fact("原因", what))
        retryable = bool((view.get("failure") or {}).get("retryable"))
        if incident:
            facts.append(Fact("当前情况", incident))
            text = f"{head}没有成功：{what}{incident}"
        elif retryable:
            when, late = retry_arrival(view, ctx)
            facts.append(Fact("现在重试预计到账", when))
            offers.append(Offer(f"retry_repayment:{rid}:{view.get('attempt', 1)}", "重试还款"))
            text = f"{head}没有成功：{what}{advice}"
        else:
            text = f"{head}没有成功：{what}{advice}"
    elif status == "processing":
        when = local_time((view.get("expected_arrival") or {}).get("expected_at"), ctx)
        facts.append(Fact("预计到账", when))
        notice = (view.get("notice") or {}).get("message")
        text = f"{head}正在处理，预计{when}前到账。" + (notice or "资金已在处理中，无需重复还款。")
        late = bool(view.get("warning"))
    elif status == "succeeded":
        facts.append(Fact("到账时间", local_time(view.get("actual_arrival"), ctx)))
        offers.append(Offer(f"show_receipt:{rid}", "查看电子回单"))
        text = f"{head}已于{local_time(view.get('actual_arrival'), ctx)}到账。需要凭证可以查看电子回单。"
    elif status == "verification_required":
        verification = view.get("verification") or {}
        facts.append(Fact("验证码有效至", local_time(verification.get("expires_at"), ctx)))
        offers.append(Offer(f"resend_code:{rid}:{len(view.get('timeline') or [])}", "重新发送验证码"))
        text = f"{head}金额较大，正在等您输入短信验证码确认。没收到的话可以重新发送。"
    else:
        notice = (view.get("notice") or {}).get("message") or "这笔还款已取消，没有扣款。"
        text = f"{head}：{notice}"
    if due:
        facts.append(Fact("还款日", day_words(due) + ("（按预计到账时间会晚于还款日，可能产生逾期费用）" if late else
                                                 "（按预计到账时间不会逾期）" if late is False else "")))
        if late:
            text += f"注意：预计到账晚于还款日 {day_words(due)}，建议尽快处理或联系发卡行/平台说明。"
    offers.append(HANDOVER)
    return Grounded(text, tuple(facts), tuple(offers), repayment_id=rid)


# ---------------------------------------------------------------- my 工单
def case_facts(actor: Actor, ctx: Context) -> Grounded:
    """The user's latest 工单: its reference, status, who handles it and what happens next."""
    from chalicelib.escalation import service as escalation
    items = escalation.list_mine(actor).items
    if not items:
        return Grounded("您目前没有工单。需要人工帮忙的话，点“转人工”，我会把我们的对话一起转过去。",
                        actions=(HANDOVER,))
    latest = items[0]
    case = escalation.get_case(actor, ctx, latest.case_id)
    facts = [Fact("工单", case.reference, LINK_CASE.format(id=case.case_id)),
             Fact("问题", case.category_title), Fact("状态", case.status_title), Fact("处理", case.step_title)]
    if case.deadline_local:
        facts.append(Fact("答复时限", case.deadline_local))
    more = f"（您共有 {len(items)} 个工单，可在“我的工单”查看全部）" if len(items) > 1 else ""
    return Grounded(f"您最近的工单 {case.reference}（{case.category_title}）{case.status_title}。"
                    f"{case.what_next}{more}",
                    tuple(facts), (HANDOVER,), case_id=case.case_id)


# ---------------------------------------------------------------- bills: due dates and reminders
# an amount the user names for a schedule: "每月自动还 500 元", "预约还款2000块" (a unit is needed: "15号" is a day)
_AMOUNT = re.compile(r"(?<![\d.])(\d{1,6}(?:\.\d{1,2})?)\s*(?:元|块|rmb|RMB)")
OPEN_SCHEDULE = ("active", "verification_required", "running")


def amount_in(text: str) -> str | None:
    found = _AMOUNT.search(text or "")
    if not found or float(found.group(1)) <= 0:
        return None
    whole, _, cents = found.group(1).partition(".")
    return f"{int(whole)}.{cents.ljust(2, '0')}"


def bill_facts(actor: Actor, ctx: Context, *, text: str = "", schedules: bool = False) -> Grounded:
    """The user's saved bills: the next due date and whether reminders are on (an action turns them on); with
    ``schedules``, the bill's open scheduled repayment, or — when the message names an amount — an offer to
    schedule that amount to arrive by the due date (``actions.schedule_repayment``, confirmed first)."""
    from chalicelib.bills import service as bills
    items = bills.list_bills(actor, bills.schemas.PageQuery(limit=20), ctx)["items"]
    if not items:
        return Grounded("您还没有保存账单。在“我的账单”添加后，可以开启到期提醒或设置自动还款。",
                        (Fact("我的账单", "添加账单", "/help/bills"),))
    kinds = mentioned_kinds(text)
    dated = sorted(items, key=lambda b: (not kinds or b["kind"] not in kinds, b.get("next_due_date") or "9999"))
    bill = dated[0]
    if schedules:
        return _with_schedule(bill_facts_of(bill), bill, actor, ctx, amount_in(text))
    return bill_facts_of(bill)


def _with_schedule(found: Grounded, bill: dict, actor: Actor, ctx: Context, amount: str | None) -> Grounded:
    from chalicelib.bills import service as bills
    mine = bills.list_schedules(actor, bills.schemas.PageQuery(limit=20), ctx)["items"]
    current = next((s for s in mine if s["bill_id"] == bill["id"] and s["status"] in OPEN_SCHEDULE), None)
    if current is not None:
        return Grounded(f"{found.text}您已为这张账单预约了还款{current.get('amount') or ''}元：{current['message']}",
                        (*found.facts, Fact("预约还款", current["message"], "/help/bills")), found.actions)
    if not bill.get("next_due_date"):
        return found
    if amount is None:
        return Grounded(found.text + "告诉我金额（例如“预约还款 500 元”），我可以帮您预约在还款日前自动还款。",
                        found.facts, found.actions)
    offer = Offer(f"schedule_repayment:{bill['id']}:{amount}", f"预约 {amount} 元在还款日前到账")
    return Grounded(found.text, found.facts, (*found.actions, offer))


def bill_facts_of(bill: dict) -> Grounded:
    facts = [Fact("账单", bill["label"], "/help/bills")]
    offers: list[Offer] = []
    due = bill.get("next_due_date")
    if due:
        facts.append(Fact("下个还款日", day_words(due)))
    facts.append(Fact("到期提醒", "已开启" if bill["reminders"] else "未开启"))
    if not bill["reminders"]:
        offers.append(Offer(f"set_reminder:{bill['id']}", "开启到期提醒"))
    facts.append(Fact("自动还款", "在“我的账单”设置", "/help/bills"))
    text = (f"您的{bill['label']}" + (f"下个还款日是{day_words(due)}。" if due else "还没有设置还款日。")
            + ("到期前会提醒您。" if bill["reminders"] else "还没有开启到期提醒。"))
    return Grounded(text, tuple(facts), tuple(offers))


# ---------------------------------------------------------------- is this number ours?
# A number as people type it: a mobile (spaces or dashes between its groups allowed), a 400/800 line, a 95xxx
# short number, a landline with its area code (010-0000-1001, 021 1234 5678), an optional +86 in front.
_NUMBER = re.compile(r"(?<![\d*])(?:\+?86[\s-]?)?(?:1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}|[48]00[\s-]?\d{3}[\s-]?\d{4}"
                     r"|95\d{3,4}|0\d{2,3}[\s-]?\d{3,4}[\s-]?\d{4})(?![\d*])")
# a mobile number the conversation already masked (``138****5678``): a tap after the message sees only this
_MASKED_MOBILE = re.compile(r"(?<!\d)1[3-9]\d\*{4}\d{4}(?!\d)")
MOBILE_WORDS = ("{number} 是手机号码，不是本钱包的号码：本钱包客服从不用个人手机号联系您。如果对方自称本钱包客服，"
                "那一定是冒充。请不要转账、不要提供验证码或密码。")
IF_CLAIMED = ("已经转账或说出了验证码：请立即冻结账户，并拨打 110 报警或 96110 反诈专线举报这个号码。"
              "没有的话挂断即可，也可以向 96110 举报。")


def has_number(text: str) -> bool:
    return bool(_NUMBER.search(text or "") or _MASKED_MOBILE.search(text or ""))


def number_facts(text: str) -> Grounded:
    """Check a phone number the user typed against the official directory (``GET /contacts/verify``). ``text`` is
    the message as typed (``TurnContext.raw``, in memory only) or the stored, masked one: a masked mobile number
    is still known to be a mobile, and never official. What comes back is masked (it is stored as the answer)."""
    from chalicelib.assistant.model import mask_phones
    from chalicelib.edge.errors import ApiError
    from chalicelib.search import contacts
    found = _NUMBER.search(text or "")
    masked = None if found else _MASKED_MOBILE.search(text or "")
    if masked:
        return _mobile(masked.group(0))
    if not found:
        return Grounded("请把来电或短信里的号码发给我，我帮您核对是不是官方号码。官方客服不会索要密码或验证码。",
                        (Fact("官方号码", "查看官方联系方式", "/help/contact"),))
    try:
        check = contacts.verify_number(found.group(0))
    except ApiError:    # not a number the directory can read: ask again rather than fail
        return Grounded("这个号码我没能识别，请只发送号码本身（例如 95xxx 或 400 开头的号码）。")
    if check.status == "mobile":
        return _mobile(mask_phones(check.number))
    verdict = ("官方号码" if check.official else
               "疑似诈骗号码" if check.verdict == "scam_pattern" else "不是本钱包的号码")
    facts = [Fact("号码", mask_phones(check.number)), Fact("结论", verdict)]
    if check.official:
        return Grounded(mask_phones(" ".join(x for x in (check.message, check.warning) if x)), tuple(facts))
    facts.append(Fact("官方号码", "查看官方联系方式", "/help/contact"))
    offers = (Offer("freeze_account", "我已泄露信息，立即冻结账户"), HANDOVER)
    said = " ".join(x for x in (check.message, check.warning, IF_CLAIMED) if x)
    return Grounded(mask_phones(said), tuple(facts), offers)


def _mobile(shown: str) -> Grounded:
    return Grounded(MOBILE_WORDS.format(number=shown) + IF_CLAIMED,
                    (Fact("号码", shown), Fact("结论", "手机号码，不是本钱包的号码"),
                     Fact("官方号码", "查看官方联系方式", "/help/contact")),
                    (Offer("freeze_account", "我已泄露信息，立即冻结账户"), HANDOVER))
