"""``python -m chalicelib.escalation.rekey``: once after deploying the queue's opening-time order, rewrite the
queue entries written before it (``<deadline|~paused>#<ref>`` → ``<deadline|~paused>#<created_at>#<ref>``).

Reads the table the settings name (``CASES_TABLE``, ``QUEUE_SHARDS``; AWS credentials from the environment),
one Query per step and shard of the sparse queue index — open cases only, no Scan. Safe to run again (prints 0)
and while agents work: each rewrite is conditioned on the case's version and old key.
"""
from __future__ import annotations

from chalicelib.escalation import steps, store


def main() -> None:
    for step in steps.NAMES:
        print(f"{step}: {store.rekey_queue(step)} queue entries rewritten", flush=True)


if __name__ == "__main__":
    main()
