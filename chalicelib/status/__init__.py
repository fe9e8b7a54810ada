"""Service notices (服务公告): what support leads tell every user about the service itself
("招商银行信用卡还款通道维护中，预计 14:00 恢复"), with a scope, a start and an end (docs/status.md).
Not the user's own notices (``chalicelib/notices``).

Other domains and the edge use ``service`` (the facade) and ``schemas`` only."""
