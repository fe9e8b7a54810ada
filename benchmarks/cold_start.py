"""Cold start: a fresh Python process imports the app, opens the KB index and answers one search
through the Lambda handler (``app.app(event, context)`` with an API Gateway proxy event).

    make index && .venv/bin/python benchmarks/cold_start.py [--runs 7] [--query 客服电话多少]

Prints each run's wall time (process start → response, measured by the parent, interpreter
start-up included) and the in-process split (import app / first search), then the medians.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time
started = time.perf_counter()
import app as application
imported = time.perf_counter()

class Context:
    function_name = "repaydesk-dev"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:ap-southeast-1:123456789012:function:repaydesk-dev"
    memory_limit_in_mb = 1024
    aws_request_id = "cold-start-benchmark"
    log_group_name = log_stream_name = "benchmark"
    def get_remaining_time_in_millis(self):
        return 30000

query = sys.argv[1]
event = {
    "resource": "/kb/search", "path": "/kb/search", "httpMethod": "GET",
    "headers": {"Accept": "application/json", "Host": "api.example.com"},
    "multiValueHeaders": {"Accept": ["application/json"], "Host": ["api.example.com"]},
    "queryStringParameters": {"q": query}, "multiValueQueryStringParameters": {"q": [query]},
    "pathParameters": None, "stageVariables": None, "body": None, "isBase64Encoded": False,
    "requestContext": {"resourcePath": "/kb/search", "httpMethod": "GET", "path": "/api/kb/search",
                       "stage": "api", "requestId": "cold-start", "identity": {"sourceIp": "127.0.0.1"}},
}
response = application.app(event, Context())
done = time.perf_counter()
body = json.loads(response["body"])
print(json.dumps({"status": response["statusCode"], "top": body["results"][0]["slug"] if body.get("results") else None,
                  "import_ms": (imported - started) * 1000, "search_ms": (done - imported) * 1000}))
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--query", default="客服电话多少")
    args = parser.parse_args(argv)
    env = dict(os.environ, AWS_DEFAULT_REGION="ap-southeast-1", AWS_REGION="ap-southeast-1",
               AWS_ACCESS_KEY_ID="benchmark", AWS_SECRET_ACCESS_KEY="benchmark",
               POWERTOOLS_METRICS_NAMESPACE="RepayDesk", LOG_LEVEL="WARNING")
    python = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
    walls, imports, searches = [], [], []
    for run in range(args.runs):
        started = time.perf_counter()
        done = subprocess.run([python, "-c", CHILD, args.query], cwd=ROOT, env=env, capture_output=True, text=True)
        wall = (time.perf_counter() - started) * 1000
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if result["status"] != 200:
            print(f"search answered {result['status']}", file=sys.stderr)
            return 1
        walls.append(wall)
        imports.append(result["import_ms"])
        searches.append(result["search_ms"])
        print(f"run {run + 1}: {wall:6.0f} ms wall  (import app {result['import_ms']:5.0f} ms, "
              f"open index + first search {result['search_ms']:5.0f} ms) → {result['top']}")
    print(f"median of {args.runs}: {statistics.median(walls):.0f} ms wall; import app "
          f"{statistics.median(imports):.0f} ms; open index + first search {statistics.median(searches):.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
