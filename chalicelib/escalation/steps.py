"""The escalation steps, declared as data, in the order a case climbs them.

Each step names the team that owns it, the role allowed to act on it, how long
that team has to give a support response (business hours on the calendar;
security cases count round the clock and get a shorter limit), when the team
is warned before the limit lapses, and how the step is described to the user.
SNS topic and team SQS queue names derive from the step/team name and the
stage prefixes in the settings given, so ``infra/escalation.py`` and the service agree.

The ``step_limit_overrides`` setting ("frontline=3,senior=3" — wall-clock
seconds, parsed by ``overrides``) shortens limits for demos and the end-to-end test.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, TypeGuard

from chalicelib.config import Settings
from chalicelib.escalation import sla

# The values a case's fields take (the response models in ``schemas.py`` publish the same).
StepName = Literal["frontline", "senior", "public_feedback", "legal_guidance"]
Category = Literal["repayment_delay", "repayment_failed", "account_security", "fees", "other"]
Priority = Literal["P1", "P2", "P3"]


@dataclass(frozen=True)
class Step:
    name: StepName
    team: str                 # owning team: names its SQS queue and e-mail inbox
    title: str                # shown to the user
    description: str          # plain Chinese: who handles the case at this step
    role: str                 # Cognito group allowed to act on cases at this step
    limit_hours: float        # business hours for a support response (P2; per priority in sla.yaml)
    security_limit_hours: float  # round-the-clock hours for account_security cases (sla.yaml)
    warn_fraction: float = 0.75  # warn the team once this share of the limit has elapsed
    final: bool = False

    def topic(self, cfg: Settings) -> str:
        return cfg.escalation_topic_prefix + self.name

    def queue(self, cfg: Settings) -> str:
        return cfg.team_queue_prefix + self.team

    def team_email(self, cfg: Settings) -> str:
        domain = cfg.sender_email.rpartition("@")[2] or "repaydesk.example.com"
        return f"{self.team}@{domain}"


def _limits(name: str) -> dict:
    """A step's P2 and security limits from ``sla.yaml`` (every priority's: ``sla.step_limit_hours``)."""
    return {"limit_hours": sla.step_limit_hours(name, "P2", security=False),
            "security_limit_hours": sla.step_limit_hours(name, None, security=True)}


STEPS: tuple[Step, ...] = (
    Step(name="frontline", team="frontline", title="一线客服",
         description="在线客服和热线客服人员处理您的问题。",
         role="support", **_limits("frontline")),
    Step(name="senior", team="senior", title="高级客服",
         description="转接至更高级别的客服：高级客服团队复核并处理您的问题。",
         role="senior-support", **_limits("senior")),
    Step(name="public_feedback", team="public-feedback", title="公开反馈渠道",
         description="负责官方社交媒体和公开反馈渠道的团队跟进您的问题。",
         role="senior-support", **_limits("public_feedback")),
    Step(name="legal_guidance", team="legal", title="法律与监管指引",
         description="最后一步：我们向您提供监管投诉和法律途径、需保留的证据以及工单导出文件。",
         role="senior-support", **_limits("legal_guidance"), final=True),
)
BY_NAME: dict[str, Step] = {step.name: step for step in STEPS}
NAMES: tuple[StepName, ...] = tuple(step.name for step in STEPS)

# Where each category starts, and with what priority.
START_STEP: dict[str, StepName] = {"account_security": "senior"}
PRIORITY: dict[str, Priority] = {"account_security": "P1", "repayment_failed": "P2", "repayment_delay": "P2",
            "fees": "P3", "other": "P3"}
CATEGORY_TITLES = {
    "repayment_delay": "还款延迟到账",
    "repayment_failed": "还款失败",
    "account_security": "账户安全（疑似被盗）",
    "fees": "费用问题",
    "other": "其他问题",
}
CATEGORIES = tuple(CATEGORY_TITLES)

REOPEN_WINDOW = dt.timedelta(days=7)

# Regulator and legal routes given at the final step (and in every export).
LEGAL_ROUTES = (
    {"name": "中国人民银行金融消费权益保护咨询投诉电话", "contact": "12363",
     "when": "针对支付机构（含本钱包）的支付、还款服务投诉。"},
    {"name": "国家金融监督管理总局消费者投诉维权热线", "contact": "12378",
     "when": "涉及银行、消费金融、保险等金融机构的投诉。"},
    {"name": "全国12315消费者投诉举报平台", "contact": "12315",
     "when": "一般消费纠纷、收费和服务质量问题。"},
    {"name": "仲裁", "contact": "向合同约定的仲裁委员会申请",
     "when": "合同中有仲裁条款时，可申请仲裁，裁决具有法律效力。"},
    {"name": "人民法院诉讼", "contact": "向有管辖权的人民法院起诉",
     "when": "没有仲裁条款或需要司法裁判时，可提起民事诉讼。"},
)
EVIDENCE_TO_KEEP = (
    "本工单编号及导出的工单记录（JSON 与可打印页面）",
    "还款记录、扣款短信和银行流水截图",
    "与客服的聊天记录、通话时间和工单回复",
    "相关合同、协议和费用说明页面截图",
    "账户异常时的登录提醒、验证码短信（不要把验证码告诉任何人）",
)


def is_step(name: str) -> TypeGuard[StepName]:
    """``name`` is one of the steps (``NAMES``)."""
    return name in BY_NAME


def get(name: str) -> Step:
    return BY_NAME[name]


def next_step(name: str) -> Step | None:
    index = NAMES.index(name)
    return STEPS[index + 1] if index + 1 < len(STEPS) else None


def previous_step(name: str) -> str:
    """The step a case climbed from to reach ``name`` (the first step for the first)."""
    return NAMES[max(0, NAMES.index(name) - 1)]


def overrides(spec: str) -> dict[str, float]:
    """Parsed ``step_limit_overrides`` ("frontline=3,senior=5"): step name → seconds (wall clock)."""
    result: dict[str, float] = {}
    for part in spec.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if name not in BY_NAME:
            raise ValueError(f"STEP_LIMIT_OVERRIDES names unknown step {name!r}")
        result[name] = float(value)
    return result
