"""Escalation: the cases table, one SNS topic per step, one SQS queue per team (subscribed raw).

Access patterns (no Scan anywhere):
- a case by reference                  GetItem  pk=CASE#<ref>, sk=CASE
- a case's conversation / notes         Query    pk=CASE#<ref>, sk begins_with MSG# / NOTE#
- a user's cases                        Query    GSI by_user (user_pk=USER#<uid>, newest first)
- a user's open cases on a repayment    Query    GSI open_repayment (orep_pk=OREP#<uid>#<repayment>)
- a step's open queue, nearest deadline Query    GSI queue   (queue_pk=QUEUE#<step>[#<shard>],
                                                 queue_sk=<deadline>#<ref>), every shard (QUEUE_SHARDS, crc32
                                                 of the ref; shard 0 unsuffixed), merged by queue_sk; the
                                                 cursor is the last queue_sk shown
- the oldest open cases (reports)        Query    GSI open_age (age_pk=OPEN#<0..3>, age_sk=<created_at>#<ref>),
                                                 4 shards merged
- search (docs/escalation.md "Finding a 工单"):
  a user name's cases                   Query    GSI by_username (uname_pk=UNAME#<folded name>, newest first)
  the cases naming a repayment          Query    GSI by_repayment (repay_pk=REPAY#<id>, newest first)
  a phone's last four, within days      Query    GSI by_phone4 (phone4_pk=PHONE4#<last four>, user_sk between)
  the cases containing a word           Query    pk=TERM#<word>, sk=<created_at>#<ref> (term items, newest first)
- the sweep's due work                  Query    GSI due     (due_pk=DUE#<shard>, due_sk <= now)
- the open cases of a repayment          Query    GSI by_repayment (repay_pk=REPAY#<repayment id>)
- the cases grouped under an incident   Query    GSI by_incident  (incident_pk=INCIDENT#<incident id>)
- settlement incidents, their window counters and active pointers: items of their own (incident_store.py)
- repayment outcomes reach the cases through the repayment-events queue (repay's outbox → following.py)
- the agents (#25)                       Query    pk=AGENT (one partition: the team); pk=TURN, sk=<step>: cursor
- who is on a 工单 (presence)            Query    pk=PRESENCE#<ref>, read-filtered to the last seconds; TTL
- quarantined inbound mails (leads)      Query    pk=MAILQ (one partition), sk=q<time>-<hash>, newest first

Evidence attachments live in their own private bucket, under ``cases/<ref>/<attachment id>/<file name>``:
a case's attachments are a ListObjectsV2 of its prefix (no table item, no Scan).
"""
from chalicelib.escalation import steps
from infra import table


def tables(cfg):
    return [table(cfg.cases_table, gsis=[("by_user", "user_pk", "user_sk"),
                                         ("queue", "queue_pk", "queue_sk"),
                                         ("due", "due_pk", "due_sk"),
                                         ("open_age", "age_pk", "age_sk"),
                                         ("by_username", "uname_pk", "user_sk"),
                                         ("by_repayment", "repay_pk", "user_sk"),
                                         ("by_phone4", "phone4_pk", "user_sk"),
                                         ("by_incident", "incident_pk", "incident_sk"),
                                         ("open_repayment", "orep_pk", "orep_sk")],
                  ttl="presence_expires")]   # PRESENCE#<ref> items go by TTL (#25: who is on a 工单)


def queues(cfg):
    # One queue per team; the team's tooling reads it. A DLQ keeps poison messages visible.
    # The repayment outcomes a 工单 hears (repay's settlement worker → outbox → this queue → following.py).
    return [{"name": cfg.team_queue_prefix + step.team, "visibility_timeout": 60, "dlq": True, "max_receive": 5}
            for step in steps.STEPS] + [{"name": cfg.repayment_events_queue, "visibility_timeout": 120, "dlq": True,
                                          "max_receive": 5}]


def topics(cfg):
    return [{"name": step.topic(cfg), "queues": [step.queue(cfg)]}
            for step in steps.STEPS]


# Evidence is kept two years (a complaint or a court case can take that long), then S3 deletes it.
ATTACHMENT_EXPIRE_DAYS = 730


def buckets(cfg):
    origins = [o.strip() for o in cfg.attachment_cors_origins.split(",") if o.strip()]
    return [{"name": cfg.attachments_bucket, "cors_origins": origins, "expire_days": ATTACHMENT_EXPIRE_DAYS}]
