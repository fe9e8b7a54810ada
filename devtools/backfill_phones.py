"""``python -m devtools.backfill_phones``: once after deploying the search by phone (issue #25), give the 工单
opened before it the last four digits of their owner's phone (``search_store.backfill_phone4``).

Reads the table the settings name (``CASES_TABLE``) and the user pool (``USER_POOL_ID``) with the credentials of
the environment: one Scan of the cases table (a one-off command, never a request path) and one AdminGetUser
per user. Only the last four digits are written; no number is printed or logged. Safe to run again (the cases
done are skipped) and while agents work (each update is conditioned on the case's version).

``make serve`` does not need it: its moto starts empty and every seeded 工单 opens through the service, which
keeps the digits itself.
"""
from __future__ import annotations

from chalicelib.escalation import phones, search_store


def main() -> None:
    done, left = search_store.backfill_phone4(phones.last_four)
    print(f"{done} 工单 given their phone's last four digits; {left} left without (no phone, or changed "
          "meanwhile: run again)", flush=True)


if __name__ == "__main__":
    main()
