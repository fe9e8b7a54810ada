"""Every setting the service reads, in one place.

Values come from environment variables (set per stage in ``.chalice/config.json``;
``make serve`` and the tests set the ones that only exist at run time, such as
the Cognito pool id). Every setting has a default so that importing ``app``
needs nothing but an AWS region and credentials.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
CHALICELIB_DIR = Path(__file__).resolve().parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def _int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError as exc:  # a misconfigured stage should fail loudly at start
        raise ValueError(f"setting {name} must be an integer, got {raw!r}") from exc


def _shards(name: str, default: int) -> int:
    value = _int(name, default)
    if value < 1:
        raise ValueError(f"setting {name} must be at least 1, got {value}")
    return value


def _float(name: str, default: float) -> float:
    raw = _env(name, str(default))
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"setting {name} must be a number, got {raw!r}") from exc


def _secret(name: str) -> str | None:
    value = os.environ.get(name) or None
    if value is not None and len(value) < 32:  # a short key is a guessable key: fail loudly at start
        raise ValueError(f"setting {name} must be at least 32 characters")
    return value


def _choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = _env(name, default)
    if value not in allowed:
        raise ValueError(f"setting {name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _instant(name: str) -> str | None:
    """An ISO-8601 instant with its offset (``2026-12-09T02:30:00Z``), or None when unset."""
    raw = os.environ.get(name) or None
    if raw is None:
        return None
    import datetime as dt
    try:
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValueError(f"setting {name} must be an ISO-8601 instant with its offset, e.g. 2026-12-09T02:30:00Z; "
                         f"got {raw!r}")
    return raw


def _bool(name: str, default: bool) -> bool:
    return _env(name, "true" if default else "false").lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    time_zone: str
    log_level: str
    # Set only when talking to a local AWS stand-in (moto server); boto3 reads it itself.
    aws_endpoint_url: str | None

    # Authentication (Amazon Cognito user pool)
    user_pool_id: str
    user_pool_client_id: str
    jwks_cache_seconds: int

    # DynamoDB tables
    repayments_table: str
    cases_table: str
    kb_table: str
    outbox_table: str
    limits_table: str
    events_table: str          # analytics events, one item each (chalicelib/adapters/events.py, #15)
    reports_table: str         # their hourly and daily rollups, what the reports read
    notices_table: str         # the in-app inbox (chalicelib/notices.py)
    assistant_table: str       # the assistant's conversations (chalicelib/assistant/dynamo_store.py, #24)
    # Write shards of hot partition keys (docs/scale.md); raise only, never lower (chalicelib/adapters/shards.py)
    queue_shards: int          # the cases table's queue index, QUEUE#<step>
    agent_capacity: int        # open 工单 an agent carries at once unless a lead sets theirs (#25)
    feedback_shards: int       # the kb table's article feedback totals, FEEDBACK
    zero_result_shards: int    # the kb table's zero-result counters, ZERO#<day>
    outbox_shards: int         # the outbox table's pending index, PENDING
    event_shards: int          # the events table's hour partitions, EV#<hour>

    # Per-user rate limits: "action=count/window_seconds,..."
    rate_limits: str

    # Time budget (chalicelib/adapters/deadline.py): every HTTP request answers within request_budget_seconds,
    # with a 503 + Retry-After when AWS hangs. Each AWS call waits at most connect + read timeout per
    # attempt; attempts (standard retry mode) retry throttling and 5xx, not a dependency that timed out.
    aws_connect_timeout_seconds: float
    aws_read_timeout_seconds: float
    aws_max_attempts: int
    request_budget_seconds: float

    # SQS / SNS
    settlement_queue: str
    escalation_topic_prefix: str
    team_queue_prefix: str
    repayment_events_queue: str   # a repayment's settlement outcomes, heard by its 工单 (escalation/following.py)
    sender_email: str

    # Repayments
    fee_schedule_path: str
    holidays_path: str
    step_up_threshold_fen: int
    verification_ttl_seconds: int
    verification_max_attempts: int
    idempotency_ttl_seconds: int
    security_hotline: str
    settlement_connector: str  # "simulator" locally; a real bank/biller adapter in prod
    settlement_recheck_seconds: int  # how long the worker waits before asking about a delayed settlement again
    simulator_delay_seconds: int     # how long the simulator keeps a "delay" repayment pending
    verification_max_resends: int      # new SMS codes per repayment (POST /repayments/{id}/resend-code)
    verification_resend_interval_seconds: int  # at least this long between two codes of a repayment
    # The key of receipts' verification codes (HMAC-SHA256). Never logged (not in repr); None (unset):
    # receipts answer 503 rather than sign with a guessable key.
    receipt_secret: str | None = field(repr=False)
    # Replies by e-mail (chalicelib/escalation/replymail.py): the key signing reply+<token>@<mail_domain>
    # (HMAC-SHA256, never logged, per stage; None: no reply address is offered and every inbound mail is
    # quarantined), its version (a new key gets a new version; tokens name theirs), the size limit.
    mail_reply_secret: str | None = field(repr=False)
    mail_reply_key_version: str
    mail_domain: str
    inbound_mail_max_bytes: int
    inbound_mail_bucket: str       # SES writes each received mail under inbound/ (infra/mail.py)
    inbound_mail_queue: str        # S3 announces each one here; the ``receive_mail`` function reads it

    # Saved bills, reminders, scheduled repayments (chalicelib/bills)
    bills_table: str
    catalogue_path: str
    reminder_days: str             # days before the due date a reminder goes, e.g. "3,1,0" (0: on the day, if unpaid)
    quiet_hours: str               # "22:00-08:00" (Asia/Shanghai): no SMS then, deferred to the end; "" = none
    wake_shards: int               # the bills table's time-bucketed wake index, WAKE#<day>[#k]
    wake_lookback_days: int        # the sweep also reads this many past days' buckets (a sweep that missed a day)
    bills_wake_queue: str          # the schedule's fan-out: one message per wake shard a minute, one worker each
    bills_sweep_budget_seconds: float  # a worker stops taking new items after this long (below a minute: no overlap)
    schedule_margin_minutes: int   # "arrive by the due date" runs this long before the last on-time moment
    schedule_check_seconds: int    # how soon the sweep looks at a scheduled repayment it started
    schedule_max_retries: int      # automatic retries of a failed scheduled repayment (retryable reasons)

    # Search
    kb_source_dir: str
    content_table: str             # help-centre articles as content: versions, review, audit (chalicelib/content)
    kb_index_dir: str
    # A newer learned search model (learned.json from `build --signals`) in S3, checked at most
    # every kb_learned_refresh_seconds per container; empty: the one beside the index only.
    kb_learned_uri: str
    kb_learned_refresh_seconds: int
    # The live index (chalicelib/search/builds.py, live.py): publishing queues a build on kb_build_queue; the
    # build is written to kb_index_bucket and a pointer in kb_table moves forward; API containers look at the
    # pointer at most every kb_live_refresh_seconds (0, the default outside a stage: never — the packaged index
    # only; .chalice/config.json sets 5 for dev and prod).
    kb_build_queue: str
    kb_index_bucket: str
    kb_live_refresh_seconds: float
    contacts_path: str
    # Contacts and quick replies edited in the workspace (chalicelib/editions): their table, whether readers follow
    # the published version at all (off: the packaged YAML only; .chalice/config.json turns it on for every stage),
    # and how long a container keeps what it read.
    editions_table: str
    editions_live: bool
    editions_cache_seconds: float

    # Escalation
    escalation_calendar_path: str
    step_limit_overrides: str  # e.g. "frontline=120,senior=300" (seconds) for demos and e2e tests
    # Settlement incidents (escalation/incidents.py): this many failures of one kind at one issuer, platform
    # or biller within one window bucket open an incident; it closes after a quiet window without failures.
    incident_threshold: int
    incident_window_minutes: int
    incident_quiet_minutes: int
    # Evidence attachments (S3, uploaded by the browser through a presigned POST)
    attachments_bucket: str
    attachment_url_seconds: int       # how long a presigned upload form / download link is valid
    attachment_cors_origins: str      # comma-separated page origins allowed to POST to the bucket

    # Browser sign-in and sessions (chalicelib/web/): the cookie is Secure unless public_base_url is
    # http://127.0.0.1 or http://localhost; the workspace link in team e-mails starts with public_base_url.
    public_base_url: str
    sessions_table: str
    # Service notices (chalicelib/status/, docs/status.md): the table, and how long a container reuses what it read
    status_table: str
    status_cache_seconds: int
    session_idle_seconds: int        # signed out after this long without a request
    session_max_seconds: int         # and after this long in any case (sign in again)
    agent_sign_in: str               # "password" (InitiateAuth) or "sso" (the pool's managed login / federation)
    sso_domain: str                  # the pool's domain, e.g. https://repaydesk.auth.ap-southeast-1.amazoncognito.com
    sso_identity_provider: str       # optional: a SAML/OIDC provider name on the pool (skips the Cognito page)

    # A fixed starting instant for the application's clock (chalicelib/kernel/clock.py), local stacks and tests
    # only: the clock reads clock_start at the real instant clock_start_real (epoch seconds; default: when
    # the process first reads it) and runs on from there. None: the machine's clock. Never set for a deployed
    # stage (.chalice/config.json; tests/shared/test_clock.py checks).
    clock_start: str | None
    clock_start_real: float | None

    # pydantic's own switch (it reads the variable itself); the Lambda function sets "__all__"
    # and then the app also skips pydantic's plugin discovery import (chalicelib/edge/coldstart.py).
    pydantic_plugins_disabled: bool

    @property
    def jwks_url(self) -> str:
        # Against moto server the keys are served by the stand-in itself, at the same path.
        if self.aws_endpoint_url:
            return f"{self.aws_endpoint_url.rstrip('/')}/{self.user_pool_id}/.well-known/jwks.json"
        return f"{self.issuer}/.well-known/jwks.json"

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry ``Secure`` except when the service is served over plain http on this machine."""
        local = ("http://127.0.0.1", "http://localhost")
        return not any(self.public_base_url == p or self.public_base_url.startswith(p + ":")
                       or self.public_base_url.startswith(p + "/") for p in local)

    @property
    def issuer(self) -> str:
        # Tokens always carry the AWS-form issuer, moto's included.
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"


def load() -> Settings:
    region = _env("AWS_REGION", _env("AWS_DEFAULT_REGION", "ap-southeast-1"))
    stage = _env("STAGE", "dev")
    clock_start = _instant("CLOCK_START")
    return Settings(
        stage=stage,
        region=region,
        time_zone=_env("TIME_ZONE", "Asia/Shanghai"),
        log_level=_env("LOG_LEVEL", "INFO"),
        aws_endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
        user_pool_id=_env("USER_POOL_ID", "ap-southeast-1_unset"),
        user_pool_client_id=_env("USER_POOL_CLIENT_ID", "unset"),
        jwks_cache_seconds=_int("JWKS_CACHE_SECONDS", 3600),
        repayments_table=_env("REPAYMENTS_TABLE", f"repaydesk-{stage}-repayments"),
        cases_table=_env("CASES_TABLE", f"repaydesk-{stage}-cases"),
        kb_table=_env("KB_TABLE", f"repaydesk-{stage}-kb"),
        outbox_table=_env("OUTBOX_TABLE", f"repaydesk-{stage}-outbox"),
        limits_table=_env("LIMITS_TABLE", f"repaydesk-{stage}-limits"),
        events_table=_env("EVENTS_TABLE", f"repaydesk-{stage}-events"),
        reports_table=_env("REPORTS_TABLE", f"repaydesk-{stage}-reports"),
        notices_table=_env("NOTICES_TABLE", f"repaydesk-{stage}-notices"),
        assistant_table=_env("ASSISTANT_TABLE", f"repaydesk-{stage}-assistant"),
        queue_shards=_shards("QUEUE_SHARDS", 4),
        agent_capacity=_shards("AGENT_CAPACITY", 5),
        feedback_shards=_shards("FEEDBACK_SHARDS", 4),
        zero_result_shards=_shards("ZERO_RESULT_SHARDS", 4),
        outbox_shards=_shards("OUTBOX_SHARDS", 4),
        event_shards=_shards("EVENT_SHARDS", 8),
        rate_limits=_env("RATE_LIMITS", "repayment_create=30/3600,repayment_verify=10/300,kb_feedback=30/3600,"
                                           "case_open=10/3600,receipt_verify=30/300,kb_signal=120/3600,"
                                           "attachment_upload=60/3600,"
                                           # the 智能客服 (#24): per signed-in user; anonymous, per client
                                           "assistant_turn=120/600,assistant_public=60/600,"
                                           # sign-in failures (chalicelib/web/signin.py): per client, per account
                                           # and client, per account (a cool-down known devices get past)
                                           "sign_in_client=20/900,sign_in_account_client=5/900,"
                                           "sign_in_account=30/900,"
                                           # wrong two-factor codes per account (chalicelib/web/mfa.py)
                                           "mfa_code=5/300"),
        aws_connect_timeout_seconds=_float("AWS_CONNECT_TIMEOUT_SECONDS", 1.0),
        aws_read_timeout_seconds=_float("AWS_READ_TIMEOUT_SECONDS", 2.0),
        aws_max_attempts=_int("AWS_MAX_ATTEMPTS", 3),
        request_budget_seconds=_float("REQUEST_BUDGET_SECONDS", 6.0),
        settlement_queue=_env("SETTLEMENT_QUEUE", f"repaydesk-{stage}-settlement"),
        escalation_topic_prefix=_env("ESCALATION_TOPIC_PREFIX", f"repaydesk-{stage}-escalation-"),
        team_queue_prefix=_env("TEAM_QUEUE_PREFIX", f"repaydesk-{stage}-team-"),
        repayment_events_queue=_env("REPAYMENT_EVENTS_QUEUE", f"repaydesk-{stage}-repayment-events"),
        sender_email=_env("SENDER_EMAIL", "no-reply@repaydesk.example.com"),
        fee_schedule_path=_env("FEE_SCHEDULE_PATH", str(CHALICELIB_DIR / "repay" / "fee_schedule.yaml")),
        holidays_path=_env("HOLIDAYS_PATH", str(CHALICELIB_DIR / "kernel" / "holidays.yaml")),
        step_up_threshold_fen=_int("STEP_UP_THRESHOLD_FEN", 500_000),
        verification_ttl_seconds=_int("VERIFICATION_TTL_SECONDS", 300),
        verification_max_attempts=_int("VERIFICATION_MAX_ATTEMPTS", 5),
        idempotency_ttl_seconds=_int("IDEMPOTENCY_TTL_SECONDS", 24 * 3600),
        security_hotline=_env("SECURITY_HOTLINE", "010-0000-1002"),
        settlement_connector=_env("SETTLEMENT_CONNECTOR", "simulator"),
        settlement_recheck_seconds=_int("SETTLEMENT_RECHECK_SECONDS", 10),
        simulator_delay_seconds=_int("SIMULATOR_DELAY_SECONDS", 30),
        verification_max_resends=_int("VERIFICATION_MAX_RESENDS", 3),
        verification_resend_interval_seconds=_int("VERIFICATION_RESEND_INTERVAL_SECONDS", 60),
        receipt_secret=_secret("RECEIPT_SECRET"),
        mail_reply_secret=_secret("MAIL_REPLY_SECRET"),
        mail_reply_key_version=_env("MAIL_REPLY_KEY_VERSION", "1"),
        mail_domain=_env("MAIL_DOMAIN", "repaydesk.example.com"),
        inbound_mail_max_bytes=_int("INBOUND_MAIL_MAX_BYTES", 10 * 1024 * 1024),
        inbound_mail_bucket=_env("INBOUND_MAIL_BUCKET", f"repaydesk-{stage}-inbound-mail"),
        inbound_mail_queue=_env("INBOUND_MAIL_QUEUE", f"repaydesk-{stage}-mail-arrived"),
        bills_table=_env("BILLS_TABLE", f"repaydesk-{stage}-bills"),
        catalogue_path=_env("CATALOGUE_PATH", str(CHALICELIB_DIR / "bills" / "catalogue.yaml")),
        reminder_days=_env("REMINDER_DAYS", "3,1,0"),
        quiet_hours=os.environ.get("QUIET_HOURS", "22:00-08:00"),
        wake_shards=_shards("WAKE_SHARDS", 4),
        wake_lookback_days=_int("WAKE_LOOKBACK_DAYS", 7),
        bills_wake_queue=_env("BILLS_WAKE_QUEUE", f"repaydesk-{stage}-bills-wake"),
        bills_sweep_budget_seconds=_float("BILLS_SWEEP_BUDGET_SECONDS", 50.0),
        schedule_margin_minutes=_int("SCHEDULE_MARGIN_MINUTES", 60),
        schedule_check_seconds=_int("SCHEDULE_CHECK_SECONDS", 120),
        schedule_max_retries=_int("SCHEDULE_MAX_RETRIES", 3),
        kb_source_dir=_env("KB_SOURCE_DIR", str(PROJECT_DIR / "kb")),
        content_table=_env("CONTENT_TABLE", f"repaydesk-{stage}-content"),
        kb_index_dir=_env("KB_INDEX_DIR", str(CHALICELIB_DIR / "search" / "index")),
        kb_learned_uri=_env("KB_LEARNED_URI", ""),
        kb_learned_refresh_seconds=_int("KB_LEARNED_REFRESH_SECONDS", 300),
        kb_build_queue=_env("KB_BUILD_QUEUE", f"repaydesk-{stage}-kb-build"),
        kb_index_bucket=_env("KB_INDEX_BUCKET", f"repaydesk-{stage}-kb-index"),
        kb_live_refresh_seconds=_float("KB_LIVE_REFRESH_SECONDS", 0.0),
        # The index build copies kb/contacts.yaml next to the index, so a deploy ships both.
        contacts_path=_env("CONTACTS_PATH", str(Path(_env("KB_INDEX_DIR", str(CHALICELIB_DIR / "search" / "index")))
                                                / "contacts.yaml")),
        editions_table=_env("EDITIONS_TABLE", f"repaydesk-{stage}-editions"),
        editions_live=_env("EDITIONS_LIVE", "0") in {"1", "true"},
        editions_cache_seconds=_float("EDITIONS_CACHE_SECONDS", 5.0),
        escalation_calendar_path=_env("ESCALATION_CALENDAR_PATH", str(CHALICELIB_DIR / "kernel" / "holidays.yaml")),
        step_limit_overrides=_env("STEP_LIMIT_OVERRIDES", ""),
        incident_threshold=_shards("INCIDENT_THRESHOLD", 5),
        incident_window_minutes=_shards("INCIDENT_WINDOW_MINUTES", 15),
        incident_quiet_minutes=_shards("INCIDENT_QUIET_MINUTES", 60),
        attachments_bucket=_env("ATTACHMENTS_BUCKET", f"repaydesk-{stage}-attachments"),
        attachment_url_seconds=_int("ATTACHMENT_URL_SECONDS", 300),
        attachment_cors_origins=_env("ATTACHMENT_CORS_ORIGINS", "http://127.0.0.1:*,http://localhost:*"),
        public_base_url=_env("PUBLIC_BASE_URL", "").rstrip("/"),
        sessions_table=_env("SESSIONS_TABLE", f"repaydesk-{stage}-sessions"),
        status_table=_env("STATUS_TABLE", f"repaydesk-{stage}-status"),
        status_cache_seconds=_int("STATUS_CACHE_SECONDS", 5),
        session_idle_seconds=_int("SESSION_IDLE_SECONDS", 1800),
        session_max_seconds=_int("SESSION_MAX_SECONDS", 12 * 3600),
        agent_sign_in=_choice("AGENT_SIGN_IN", "password", ("password", "sso")),
        sso_domain=_env("SSO_DOMAIN", "").rstrip("/"),
        sso_identity_provider=_env("SSO_IDENTITY_PROVIDER", ""),
        clock_start=clock_start,
        clock_start_real=_float("CLOCK_START_REAL", 0.0) if os.environ.get("CLOCK_START_REAL") else None,
        pydantic_plugins_disabled=_env("PYDANTIC_DISABLE_PLUGINS", "") in {"__all__", "1", "true"},
    )


@functools.cache
def settings() -> Settings:
    return load()


def reload() -> Settings:
    """Forget cached settings (tests change the environment between cases)."""
    settings.cache_clear()
    return settings()
