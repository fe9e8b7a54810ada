"""What a repayment unit of work can lose to, as the use cases catch it (``chalicelib/adapters/unit_of_work.py``)."""
from __future__ import annotations

from chalicelib.adapters.unit_of_work import Conflict


class AccountFrozen(Conflict):
    """The ``frozen`` element lost: the account was frozen when the change was about to commit."""
