"""Structured JSON logging and CloudWatch embedded-format metrics (Powertools for AWS Lambda).

Rules: log events and ids, never request bodies. User ids are logged as a
short hash; card numbers, phone numbers, SMS codes and tokens are never logged
(the masking filter below is a second line of defence, not the first).
"""
from __future__ import annotations

import hashlib
import logging
import re
import sys
from typing import IO, cast

from aws_lambda_powertools import Logger, single_metric
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "repaydesk"
NAMESPACE = "RepayDesk"

class _CurrentStdout:
    """Writes to whatever ``sys.stdout`` is now (Lambda's, or a test's capture), not the one at import."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


# Powertools annotates ``stream`` as ``IO[str]`` but only hands it to ``logging.StreamHandler``,
# which calls ``write`` and ``flush``: all this proxy provides.
logger = Logger(service=SERVICE, stream=cast(IO[str], _CurrentStdout()))

# 11-digit mainland mobiles (with optional +86), 13–19 digit card-like runs, bearer tokens.
_SECRETS = re.compile(r"(\+?86[\s-]?)?1[3-9]\d{9}|\b\d{13,19}\b|eyJ[\w-]+\.[\w-]+\.[\w-]+")


class _MaskSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = _SECRETS.sub("[redacted]", record.msg)
        return True


logger.addFilter(_MaskSecrets())


def user_hash(user_id: str) -> str:
    return hashlib.sha256(f"repaydesk:{user_id}".encode()).hexdigest()[:12]


def metric(name: str, value: float = 1, **dimensions: str) -> None:
    """Emit one metric at once (EMF line on stdout); never raises."""
    try:
        with single_metric(name=name, unit=MetricUnit.Count, value=value, namespace=NAMESPACE) as m:
            m.add_dimension(name="service", value=SERVICE)
            for key, dim_value in dimensions.items():
                m.add_dimension(name=key, value=str(dim_value))
    except Exception:  # metrics must never break a request
        logger.exception("metric emission failed", extra={"metric": name})
