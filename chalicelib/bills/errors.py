"""What the bills stores hand the use cases besides bills and schedules: a due entry of the wake index and
the conflicts a unit of work can lose to (``chalicelib/adapters/unit_of_work.py``)."""
from __future__ import annotations

from typing import NamedTuple

from chalicelib.adapters.unit_of_work import Conflict


class Due(NamedTuple):
    """An entry of the wake index that is due: ``kind`` is ``"bill"`` or ``"schedule"``."""
    kind: str
    user_id: str
    id: str


class ReminderAlreadySent(Conflict):
    """The ``reminder`` element lost: this reminder of the bill's period was recorded (and sent) already."""
