"""Knowledge base: one table for zero-result query counters and article feedback (see chalicelib/search/store.py).

Access patterns (no Scan anywhere):
- count a zero-result query       UpdateItem pk=ZERO#<day>[#<shard>], sk=Q#<query>
                                             (ADD; shard = crc32(query) % ZERO_RESULT_SHARDS)
- a day's zero-result queries     Query      pk=ZERO#<day>[#<shard>], every shard, counts of a query summed
- a vote + its article's totals   TransactWriteItems: Put pk=ARTICLE#<slug>,
                                  Update pk=FEEDBACK[#<shard>], sk=ARTICLE#<slug>
                                  (shard = crc32(slug) % FEEDBACK_SHARDS)
- every article's totals          Query      pk=FEEDBACK[#<shard>], every shard
- an article's votes              Query      pk=ARTICLE#<slug>
Shard 0 is the unsharded key; see chalicelib/adapters/shards.py and docs/scale.md.

The learned search model (chalicelib/search/learned.py, relearn.py) lives in S3 at
``KB_LEARNED_URI`` (per stage in .chalice/config.json): ``learned_model(cfg)`` names its private
bucket, its one key, who reads it (the API function: ``s3:GetObject``) and who writes it (the
daily ``relearn_kb`` function: ``s3:PutObject``). ``make package`` turns it into the bucket
(encrypted, public access blocked, TLS only, versioned so a bad model can be rolled back) and
those two permissions on that key alone.

The live index (chalicelib/search/builds.py, live.py, docs/search.md "Live index"), in the same table:
- allocate a build's sequence     UpdateItem pk=KBBUILD#SEQ, sk=SEQ (ADD seq 1, returns the new value)
- a build's record                Put/Update pk=KBBUILD#<id>, sk=BUILD (conditional on its status)
- the live-index pointer          Get / conditional Put pk=KBLIVE, sk=POINTER
                                  (attribute_not_exists(pk) OR seq < :seq — forward only)
``queues``: the build queue (one message per queued build, a dead-letter queue after 3 tries; its
visibility timeout above the build function's 300 s). ``buckets``: the built indexes, one archive per
build under ``builds/`` — private, encrypted, TLS only; an archive is tagged ``superseded=true`` when a
newer one goes live and S3 deletes it 14 days later (the live one is never tagged, so never expires).
"""
from chalicelib.search.live_store import SUPERSEDED_TAG
from infra import table


def tables(cfg):
    return [table(cfg.kb_table)]


def learned_model(cfg) -> dict | None:
    """``{"bucket", "key", "readers", "writers"}`` (readers/writers: the Lambda handlers — the API's
    ``app.app`` and the schedule in ``chalicelib/routes/knowledge_base.py``) of the learned model, or ``None``
    when the stage reads only the model beside the index."""
    uri = cfg.kb_learned_uri
    if not uri:
        return None
    if not uri.startswith("s3://") or "/" not in uri[len("s3://"):]:
        raise ValueError(f"KB_LEARNED_URI must be s3://bucket/key, not {uri!r}")
    bucket, _, key = uri[len("s3://"):].partition("/")
    return {"bucket": bucket, "key": key, "readers": ["app.app"],
            "writers": ["chalicelib.routes.knowledge_base.relearn_kb"]}


# The build function's timeout is 300 s (.chalice/config.json); SQS wants the visibility timeout above it.
BUILD_VISIBILITY_SECONDS = 360
SUPERSEDED_EXPIRE_DAYS = 14


def queues(cfg):
    return [{"name": cfg.kb_build_queue, "visibility_timeout": BUILD_VISIBILITY_SECONDS, "dlq": True,
             "max_receive": 3}]


def buckets(cfg):
    return [{"name": cfg.kb_index_bucket, "expire_days": SUPERSEDED_EXPIRE_DAYS, "expire_tag": SUPERSEDED_TAG}]
