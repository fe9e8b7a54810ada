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
"""
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
