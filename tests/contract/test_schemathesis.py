"""Schemathesis fuzzes every operation of /openapi.json on the real local stack, signed in.

Same as running by hand against `make serve`:
    TOKEN=$(make -s token USER=fuzzer | tail -1)
    .venv/bin/st run http://127.0.0.1:8000/openapi.json -H "Authorization: Bearer $TOKEN" \
        --checks not_a_server_error,response_schema_conformance --max-examples 25
"""
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


# ~100 operations × 25 examples: about 3 min alone, far longer beside the rest of the suite on 2 cores
@pytest.mark.timeout(900)
@pytest.mark.parametrize("role", [None, "senior-support"], ids=["user", "senior-support"])
def test_no_operation_answers_5xx_or_off_schema(local_stack, role):
    token = local_stack.token(f"fuzzer-{role or 'user'}", role=role)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "st"), "run", f"{local_stack.api_url}/openapi.json",
         "-H", f"Authorization: Bearer {token}",
         "--checks", "not_a_server_error,response_schema_conformance",
         "--max-examples", "25", "--phases", "examples,coverage,fuzzing", "--workers", "1",
         "--request-timeout", "20", "--suppress-health-check", "all", "--warnings", "off", "--no-color"],
        cwd=ROOT, capture_output=True, text=True, timeout=900)
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / f"schemathesis-{role or 'user'}.txt").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
