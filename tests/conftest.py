"""Shared fixtures: moto-backed AWS, the Chalice test client, users with real Cognito tokens."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

from devtools.local_gateway import patch as _gateway_responses  # noqa: E402

_gateway_responses()  # the test client answers API Gateway's errors as the deployed template does

# No test may ever reach real AWS, whatever the developer's shell has set.
for _name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "USER_POOL_ID", "USER_POOL_CLIENT_ID"):
    os.environ.pop(_name, None)
# The instant the in-process tests' clock starts from and runs on (Wednesday 2026-12-09 10:30 in Shanghai, a
# business day inside opening hours): business hours, dates and deadlines are the same at any hour `make test`
# runs (`make test-any-hour`). A test that needs another moment freezes or advances the clock from there.
TEST_CLOCK_START = "2026-12-09T02:30:00Z"

os.environ.update(AWS_DEFAULT_REGION="ap-southeast-1", AWS_REGION="ap-southeast-1", AWS_ACCESS_KEY_ID="testing",
                  AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing")


class _LazyResources:
    """Builds a service's declared resources (``infra/local.py``) just before the first call to that service."""

    def __init__(self, cfg):
        import threading

        from chalicelib.adapters import aws as aws_clients
        from infra import local
        self.lock, self.local_thread = threading.RLock(), threading.local()

        def identity(c):
            return aws_clients.client("ses").verify_email_identity(EmailAddress=c.sender_email)

        self.groups = {"dynamodb": local.create_tables, "sqs": local.create_queues_and_topics,
                       "sns": local.create_queues_and_topics, "s3": local.create_buckets, "ses": identity}
        self.cfg, self.built = cfg, set()

    def install(self):
        """From now on every new botocore session (``aws.reset()`` drops the old clients) calls ``ensure``
        before each API call (a ``before-call`` handler: it runs whoever wraps ``_make_api_call``)."""
        from botocore import handlers
        self.handler = ("before-call", self._before_call)
        handlers.BUILTIN_HANDLERS.append(self.handler)
        return self

    def uninstall(self) -> None:
        from botocore import handlers
        if self.handler in handlers.BUILTIN_HANDLERS:
            handlers.BUILTIN_HANDLERS.remove(self.handler)

    def _before_call(self, model=None, **_):
        if model is not None:
            self.ensure(model.service_model.service_name)

    @property
    def paused(self):
        import contextlib

        @contextlib.contextmanager
        def paused():
            self.local_thread.building = True
            try:
                yield
            finally:
                self.local_thread.building = False
        return paused()

    def ensure(self, service: str) -> None:
        build = self.groups.get(service)
        if build is None or build in self.built or getattr(self.local_thread, "building", False):
            return
        with self.lock:
            if build in self.built:
                return
            self.local_thread.building = True       # the build's own calls go straight through
            try:
                build(self.cfg)
            finally:
                self.local_thread.building = False
            self.built.add(build)


@pytest.fixture
def aws(monkeypatch):
    """A fresh moto account with every declared resource and the Cognito pool.

    Lazily: the Cognito pool is made at once (its id is a setting), every other group of resources —
    the tables, the queues and topics, the buckets, the SES identity — on the first call a test makes to
    that service (``_LazyResources``), so a test that never touches S3 never builds a bucket. A test that
    needs no AWS at all takes neither this fixture nor one built on it (``memory`` is the fast tier's).

    The session's ``local_stack`` (if started) points this process at moto server
    through ``AWS_ENDPOINT_URL`` (and sets its ``PUBLIC_BASE_URL``); a unit test must not, so they are removed for the
    test and put back afterwards.

    The application's clock starts at ``TEST_CLOCK_START`` and runs on (``chalicelib.kernel.clock.run_from``); the
    local stack's own ``CLOCK_START`` is left to the stack.
    """
    from moto import mock_aws

    from chalicelib import config
    from chalicelib.adapters import aws as aws_clients
    from chalicelib.adapters import outbox, queues
    from chalicelib.edge.auth import keys
    from chalicelib.kernel import clock
    from infra import local

    def fresh():
        config.reload()
        aws_clients.reset()
        keys.clear()
        outbox.reset_caches()
        queues.reset_caches()
        clock.reset(base=True)

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name in ("CLOCK_START", "CLOCK_START_REAL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)  # a started local stack set its own http://127.0.0.1 one
    # moto in this process on a machine the other xdist worker and browsers also load: a request of several
    # calls can take longer than the production budget (6 s, no call after 3 s) and answer 503, as it did in
    # CI. The budget's own rules are tested with their own settings (tests/shared/test_request_budget.py)
    # and against a hung endpoint with the production values (test_hung_dependency_e2e.py).
    monkeypatch.setenv("REQUEST_BUDGET_SECONDS", "30")
    from chalicelib.adapters import events

    with mock_aws():
        fresh()
        lazy = _LazyResources(config.settings()).install()
        try:
            # Events are written off the request thread (chalicelib/adapters/events.py): one still buffered from an
            # earlier test would land in this account and count twice in a report. Flushed here, before the tables
            # exist, they are dropped; a test's own are flushed into its own account before the account goes away.
            with lazy.paused:
                events.flush()
            pool = local.create_user_pool(config.settings())
            monkeypatch.setenv("USER_POOL_ID", pool.pool_id)
            monkeypatch.setenv("USER_POOL_CLIENT_ID", pool.client_id)
            config.reload()
            clock.run_from(clock.parse(TEST_CLOCK_START))
            yield pool
            events.flush()
        finally:
            lazy.uninstall()
    monkeypatch.undo()
    fresh()


@dataclass
class Memory:
    """The in-memory twins in place for one test (``memory`` fixture): what each one holds is inspectable."""
    repay: object
    bills: object
    notices: object
    outbox: object
    idempotency: object
    queues: object
    sms: object
    status: object


@pytest.fixture
def memory():
    """Every store and adapter the repayment, bills and notices use cases write through, as its in-memory twin
    (same interface, same conditions), and in-memory units of work: the use cases run without moto (the fast
    tier, ``pytest -m unit``; README "Testing"). The clock is frozen at ``TEST_CLOCK_START``; a test moves it."""
    from chalicelib import config
    from chalicelib.adapters import idempotency, outbox, queues, sms, unit_of_work
    from chalicelib.bills import memory_store as bills_memory
    from chalicelib.bills import store as bills_store
    from chalicelib.kernel import clock
    from chalicelib.notices import store as notices_store
    from chalicelib.repay import memory_store as repay_memory
    from chalicelib.repay import store as repay_store
    from chalicelib.status import memory_store as status_memory
    from chalicelib.status import service as status_service
    from chalicelib.status import store as status_store

    config.reload()
    twins = Memory(repay=repay_memory.InMemoryRepayStore(), bills=bills_memory.InMemoryBillsStore(),
                   notices=notices_store.InMemoryNotices(), outbox=outbox.InMemoryOutbox(),
                   idempotency=idempotency.InMemoryRecords(), queues=queues.InMemoryQueues(), sms=sms.InMemorySms(),
                   status=status_memory.InMemoryStatusStore())
    repay_store.use(twins.repay)
    status_store.use(twins.status)
    status_service.reset_cache()
    bills_store.use(twins.bills)
    notices_store.use(twins.notices)
    for module, twin in ((outbox, twins.outbox), (idempotency, twins.idempotency), (queues, twins.queues),
                         (sms, twins.sms)):
        module.use(twin)
    unit_of_work.use_memory()
    clock.freeze(clock.parse(TEST_CLOCK_START))
    try:
        yield twins
    finally:
        unit_of_work.use_memory(False)
        for module in (outbox, idempotency, queues, sms, repay_store, bills_store, notices_store, status_store):
            module.use(None)
        status_service.reset_cache()
        clock.reset(base=True)
        config.reload()


@dataclass
class ApiResponse:
    status: int
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


class Api:
    """The Chalice test client with JSON and bearer-token conveniences."""

    def __init__(self, client):
        self._client = client

    def request(self, method: str, path: str, *, json_body=None, body: bytes | str | None = None,
                token: str | None = None, headers: dict | None = None) -> ApiResponse:
        sent = {"Content-Type": "application/json"}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        sent.update(headers or {})
        if json_body is not None:
            body = json.dumps(json_body, ensure_ascii=False)
        if isinstance(body, str):
            body = body.encode()
        response = self._client.http.request(method, path, headers=sent, body=body or b"")
        return ApiResponse(response.status_code, {k.lower(): v for k, v in response.headers.items()}, response.body)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)


@pytest.fixture
def api(aws):
    from chalice.test import Client

    from app import app
    with Client(app, stage_name="dev", project_dir=str(ROOT)) as client:
        yield Api(client)


@dataclass(frozen=True)
class User:
    username: str
    user_id: str
    token: str


@pytest.fixture
def make_user(aws):
    """``make_user("alice", role=None, phone=...)`` → a Cognito user with a real signed ID token."""
    import jwt

    from infra import local

    def create(username: str, role: str | None = None, phone: str = "+8613800138000") -> User:
        token = local.ensure_user(aws, username, role=role, phone=phone)
        sub = jwt.decode(token, options={"verify_signature": False})["sub"]
        return User(username=username, user_id=sub, token=token)
    return create


@pytest.fixture
def alice(make_user):
    return make_user("alice", phone="+8613800138001")


@pytest.fixture
def bob(make_user):
    return make_user("bob", phone="+8613800138002")


@pytest.fixture
def agent(make_user):
    return make_user("agent", role="support", phone="+8613800138003")


@pytest.fixture
def lead(make_user):
    return make_user("lead", role="senior-support", phone="+8613800138004")


@pytest.fixture
def sms_sent(aws):
    """Texts moto's SNS captured: list of (phone, message)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sns import sns_backends

    def read() -> list[tuple[str, str]]:
        return list(sns_backends[DEFAULT_ACCOUNT_ID]["ap-southeast-1"].sms_messages.values())
    return read


def start_stack(**kwargs):
    """A started ``LocalStack`` on free ports (``kwargs`` as LocalStack's); the caller stops it.

    Its clock (and this process's, outside the ``aws`` fixture) starts at ``TEST_CLOCK_START`` and runs on, so
    pages, deadlines and the sweep behave the same at any hour the suite runs."""
    from devtools.stack import LocalStack, PortInUse, free_port
    kwargs.setdefault("clock_start", TEST_CLOCK_START)
    for attempt in range(3):  # another xdist worker may take a free port before our server binds it
        stack = LocalStack(port=free_port(), moto_port=free_port(), quiet=True, seed=False, **kwargs)
        try:
            return stack.start()
        except PortInUse:
            if attempt == 2:
                raise


@pytest.fixture(scope="session")
def local_stack():
    """The real local stack (moto server + chalice local + event runner) on free ports."""
    # chalice local runs every request in one process on this shared machine: a burst of requests
    # under load is many times slower than on Lambda (a container per request), so the request
    # budget is relaxed here; tests/shared/test_hung_dependency_e2e.py checks the real one.
    stack = start_stack(extra_env={"LOCAL_SCHEDULE_SECONDS": "2",
                                   "STEP_LIMIT_OVERRIDES": "frontline=3,senior=30,public_feedback=30",
                                   "AWS_READ_TIMEOUT_SECONDS": "10", "REQUEST_BUDGET_SECONDS": "30"})
    yield stack
    stack.stop()


def pytest_collection_modifyitems(config, items):
    """The schemathesis run fills the shared local stack with data: let the other e2e tests go first.
    Tests in a ``unit/`` folder are the fast tier (``-m unit``): no moto, no local stack."""
    for item in items:
        if "/unit/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.unit)
    items.sort(key=lambda item: "tests/contract/" in item.nodeid.replace("\\", "/"))


def burst(count: int, call, timeout: float = 60.0) -> list:
    """``call(i)`` from ``count`` threads released together (a barrier); the results in order.

    For the HTTP race tests against ``local_stack``: many requests in flight at once.
    """
    import threading
    from concurrent.futures import ThreadPoolExecutor

    barrier = threading.Barrier(count, timeout=timeout)

    def run(i):
        barrier.wait()
        return call(i)
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count), timeout=timeout))


def wait_for_status(url: str, headers: dict, statuses: set[str], timeout: float = 30.0) -> dict:
    """GET ``url`` until its ``status`` is one of ``statuses`` (a repayment settling on the local stack)."""
    import time

    import requests
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = requests.get(url, headers=headers, timeout=15).json()
        if body["status"] in statuses:
            return body
        time.sleep(0.3)
    raise AssertionError(f"still {body['status']} after {timeout}s")
