"""Replies by e-mail (chalicelib/escalation/inbound.py): SES receives mail for ``MAIL_DOMAIN`` and writes each
one, raw, under ``inbound/`` of a private bucket (a receipt rule, spam and virus scanning on); S3 announces each
new object on a queue; the ``receive_mail`` function (chalicelib/routes/mail.py) reads the queue, so a failed
mail is retried and then dead-lettered, never lost. Raw mails expire after 30 days (whatever was added to a 工单
lives in the cases table and the attachments bucket; what was refused is kept under ``quarantine/`` of the
attachments bucket). ``devtools/package.py`` turns ``receipt_rules`` and a bucket's ``notify_queue`` into
CloudFormation; the local stack creates the bucket and queue only (``make mail FILE=…`` feeds a file directly).
"""

INBOUND_PREFIX = "inbound/"
RAW_MAIL_DAYS = 30


def queues(cfg):
    return [{"name": cfg.inbound_mail_queue, "visibility_timeout": 120, "dlq": True, "max_receive": 5}]


def buckets(cfg):
    return [{"name": cfg.inbound_mail_bucket, "expire_days": RAW_MAIL_DAYS,
             "notify_queue": cfg.inbound_mail_queue, "notify_prefix": INBOUND_PREFIX}]


def receipt_rules(cfg):
    return [{"name": cfg.inbound_mail_bucket.replace("-inbound-mail", "") + "-replies",
             "recipients": [cfg.mail_domain], "bucket": cfg.inbound_mail_bucket, "prefix": INBOUND_PREFIX}]
