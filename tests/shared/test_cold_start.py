"""A cold container answering a search loads only what a search needs.

The time budget itself is a benchmark (``benchmarks/cold_start.py``); these tests pin what makes
it: the other domains' schemas and services, the contacts models, asyncio, urllib.request and
importlib.metadata stay out of a process that has answered a search — and everything a search
left out still works when its own route is called.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.edge import lazy

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, sys
import app as application

def call(path, query):
    event = {"resource": path, "path": path, "httpMethod": "GET", "headers": {"Accept": "application/json"},
             "multiValueHeaders": {"Accept": ["application/json"]}, "queryStringParameters": query,
             "multiValueQueryStringParameters": {k: [v] for k, v in query.items()}, "pathParameters": None,
             "stageVariables": None, "body": None, "isBase64Encoded": False,
             "requestContext": {"resourcePath": path, "httpMethod": "GET", "path": "/api" + path, "stage": "api",
                                "requestId": "test", "identity": {"sourceIp": "127.0.0.1"}}}
    response = application.app(event, None)
    return response["statusCode"], json.loads(response["body"])

WATCHED = ["chalicelib.repay.schemas", "chalicelib.repay.service", "chalicelib.escalation.schemas",
           "chalicelib.escalation.service", "chalicelib.search.contacts", "chalicelib.edge.auth",
           "chalicelib.adapters.outbox", "chalicelib.helpcentre.schemas",
           "asyncio", "urllib.request", "importlib.metadata", "boto3"]
status, body = call("/kb/search", {"q": "客服电话多少"})
after_search = sorted(m for m in WATCHED if m in sys.modules)
check_status, check = call("/contacts/verify", {"number": "010-0000-1002"})
import urllib.request
print(json.dumps({"status": status, "top": body["results"][0]["slug"], "after_search": after_search,
                  "check_status": check_status, "official": check.get("official"),
                  "urlopen_is_real": hasattr(urllib.request, "urlopen")}))
"""


def lambda_environment() -> dict:
    """The deployed function's variables (.chalice/config.json, stage prod) and a region."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = {**os.environ, **config["environment_variables"],
           **config["stages"]["prod"]["environment_variables"], "AWS_DEFAULT_REGION": "ap-southeast-1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


@pytest.fixture(scope="module")
def cold_search():
    result = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=lambda_environment(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_cold_search_answers_without_loading_other_routes_or_unused_libraries(cold_search):
    assert cold_search["status"] == 200
    assert cold_search["top"] == "find-hotline"
    assert cold_search["after_search"] == []


def test_what_the_search_left_out_still_works_on_its_own_route(cold_search):
    assert cold_search["check_status"] == 200 and cold_search["official"] is True
    assert cold_search["urlopen_is_real"]  # whoosh's stand-in for urllib.request is gone


def test_with_other_threads_running_whoosh_gets_the_real_urllib_request():
    # Another thread could import urllib.request while Whoosh imports (boto3 does): no stand-in then.
    code = ("import sys, threading\n"
            "stop = threading.Event(); threading.Thread(target=stop.wait).start()\n"
            "from chalicelib.search import service\n"
            "service.kb_index(); stop.set()\n"
            "print(hasattr(sys.modules.get('urllib.request'), 'urlopen'))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=lambda_environment(),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "True"


def test_a_lazy_schema_reference_resolves_to_the_class_or_fails_by_name():
    from chalicelib.repay.schemas import RepaymentRequest

    schemas = lazy.lazy_schemas("chalicelib.repay.schemas")
    assert lazy.resolved(schemas.RepaymentRequest) is RepaymentRequest
    assert lazy.resolved(None) is None and lazy.resolved(RepaymentRequest) is RepaymentRequest
    with pytest.raises(AttributeError, match="RepaymentRequst"):
        lazy.resolved(schemas.RepaymentRequst)
