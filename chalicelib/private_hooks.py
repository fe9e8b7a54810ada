"""Every reach into another library's private internals, in one place, pinned to the versions it was written for.

Each hook is a shortcut no public API offers; each says what it touches and what it saves.
Nothing else in the project may use another library's private names:
``tests/shared/test_private_hooks.py`` reads every production module and fails, naming the
module and the name, when one does; it also fails when an installed version differs from
``WRITTEN_FOR`` — read each hook of that library against the new version's source, then update
the pin. At run time a hook whose library is not the pinned version is simply not applied
(the stock, slower path runs), so an upgrade can cost speed but never correctness.

Importing this module imports nothing else: each hook imports its library when called.

- ``skip_pydantic_plugin_discovery`` — pydantic's plugin loader (cold start, ~20 ms)
- ``import_whoosh_reader`` — Whoosh's reader imported without asyncio and urllib.request
  (first search of a container, ~45 ms)
- ``whoosh_segment_writer_base`` — the build's segment writer (``search/build/segment.py``)
  fed through Whoosh's writer internals (a 10,000-article build: ~175 s → ~40 s)
- ``patch_chalice_local`` — ``chalice local`` / ``chalice.test.Client`` answer API Gateway's
  own errors in our shape (development and tests only)
- ``undo_touched_items_only``, ``query_reads_its_partition_only``, ``remember_what_never_changes`` —
  the local moto server's DynamoDB transactions and Queries cost what the items they name cost, not the
  whole table (local stack only; ``devtools/moto_server.py``, ``benchmarks/load.py``)
"""
from __future__ import annotations

import sys

# distribution → the version every hook touching it was read against; the module whose
# ``__version__`` (or equivalent) gives it at run time without importlib.metadata (~20 ms).
WRITTEN_FOR = {
    "pydantic": "2.14.3",
    "Whoosh-Reloaded": "2.7.5",
    "cached-property": "2.0.1",  # the package Whoosh's reader imports (and this replaces)
    "chalice": "1.34.0",
    "moto": "5.2.5",  # the local stack's moto server (devtools/moto_server.py), never shipped
}


def installed_version(distribution: str) -> str | None:
    """The installed version, read the cheap way (each library's own attribute)."""
    try:
        if distribution == "pydantic":
            from pydantic.version import VERSION
            return VERSION
        if distribution == "Whoosh-Reloaded":
            import whoosh  # the package only: its __init__ imports nothing else
            return ".".join(map(str, whoosh.__version__))
        if distribution == "chalice":
            import chalice
            return chalice.__version__
    except ImportError:
        return None
    from importlib import metadata  # the others: tests only

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def pinned(distribution: str) -> bool:
    return installed_version(distribution) == WRITTEN_FOR[distribution]


# --------------------------------------------------------------- pydantic
PYDANTIC_PLUGIN_LOADER = "pydantic.plugin._loader"


def skip_pydantic_plugin_discovery() -> bool:
    """With plugins disabled (``PYDANTIC_DISABLE_PLUGINS=__all__``, pydantic's public switch),
    answer pydantic's plugin lookup without importing ``importlib.metadata``.

    The first time pydantic builds a validator it imports ``pydantic.plugin._loader``, which
    imports ``importlib.metadata`` (and with it the e-mail parser) at module level — ~20 ms of a
    cold start — even when the setting means ``get_plugins()`` returns ``()`` without looking.
    The stand-in module's ``get_plugins()`` returns the same ``()``. The caller decides whether
    plugins are disabled; returns whether the stand-in is in place.
    """
    if PYDANTIC_PLUGIN_LOADER in sys.modules or not pinned("pydantic"):
        return False
    import types

    loader = types.ModuleType(PYDANTIC_PLUGIN_LOADER, "pydantic plugins disabled: no entry-point discovery")
    vars(loader).update(get_plugins=lambda: ())  # the stand-in's namespace: its one function
    sys.modules[PYDANTIC_PLUGIN_LOADER] = loader
    return True


# --------------------------------------------------------------- Whoosh, reading
def import_whoosh_reader() -> None:
    """Import ``whoosh.reading`` with two of its imports stood in for (~45 ms of the first search).

    - ``cached_property`` (one property, ``SegmentReader.deleted_docs_set``) comes from the PyPI
      package of that name, which imports asyncio (~30 ms) only to support coroutines; the
      standard library's ``functools.cached_property`` behaves the same for a plain method.
    - ``whoosh.compat`` imports ``urllib.request.urlretrieve`` (~13 ms: http.client, ssl,
      email), which no Whoosh module calls; the stand-in imports the real one if it ever is.

    The stand-ins are in ``sys.modules`` only while ``whoosh.reading`` is first imported;
    afterwards the real modules are importable as before. ``urllib.request`` is a standard-library
    module another thread could import in that moment (boto3 does), so it is stood in only while
    this is the process's only thread — as in a Lambda cold start, where the first search opens
    the index before anything else runs; otherwise Whoosh imports the real one.
    """
    import threading

    if "whoosh.reading" in sys.modules or not pinned("Whoosh-Reloaded"):
        return
    import functools
    import types

    def urlretrieve(*args, **kwargs):
        from urllib.request import urlretrieve as real

        return real(*args, **kwargs)

    # module name → (the attribute whoosh.reading's imports take from it, the stand-in's value)
    wanted: dict[str, tuple[str, object]] = {"cached_property": ("cached_property", functools.cached_property)}
    if threading.active_count() == 1:
        wanted["urllib.request"] = ("urlretrieve", urlretrieve)
    stand_ins = {}
    for name, (attribute, value) in wanted.items():
        if name not in sys.modules:
            stand_ins[name] = types.ModuleType(name, f"stand-in for whoosh.reading's import of {attribute}")
            setattr(stand_ins[name], attribute, value)
    sys.modules.update(stand_ins)
    try:
        import whoosh.reading  # noqa: F401
    finally:
        for name, stand_in in stand_ins.items():
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]


# --------------------------------------------------------------- Whoosh, writing (the build)
_segment_writer_base = None


def whoosh_segment_writer_base() -> type:
    """A ``whoosh.writing.SegmentWriter`` subclass giving ``search/build/segment.py`` what it
    needs of Whoosh's writer internals under public names, so that module names none of them.

    Whoosh's ``SegmentWriter`` sends every posting one by one through a sorting pool and a
    per-posting length lookup (~10 µs a posting, most of a large build). The build's writer
    skips that by handing Whoosh's own W3 postings writer a block (≤ 128 postings) at a time,
    which takes these internals (Whoosh-Reloaded 2.7.5):

    - ``SegmentWriter``: ``_check_state``, ``_check_fields``, ``_added``; the commit and cancel
      steps ``_flush_segment`` / ``_close_segment`` (overridden: they call the subclass's
      ``finish_segment`` / ``abandon_segment``)
    - ``W3FieldWriter``: ``_tindex``, ``_postfile``, ``_postwriter``; ``W3Codec``:
      ``_blocklimit``, ``_compression``, ``_inlinelimit``
    - ``W3PostingsWriter``: the block's ``_ids``, ``_weights``, ``_values``, ``_minlength``,
      ``_maxlength``, ``_maxweight``; ``_write_block``; ``_mini_ids`` / ``_mini_weights``
      (overridden without a Python loop per posting)
    """
    global _segment_writer_base
    if _segment_writer_base is not None:
        return _segment_writer_base
    if not pinned("Whoosh-Reloaded"):
        raise RuntimeError(f"the build's segment writer was written for Whoosh-Reloaded "
                           f"{WRITTEN_FOR['Whoosh-Reloaded']}, not {installed_version('Whoosh-Reloaded')}: "
                           "check chalicelib/private_hooks.py against it")
    from array import array
    from itertools import chain
    from operator import sub

    from whoosh.codec.whoosh3 import W3FieldWriter, W3PostingsWriter
    from whoosh.writing import SegmentWriter

    class BlockPostingsWriter(W3PostingsWriter):
        """Whoosh's postings writer, given a whole block at once instead of one ``add_posting``
        call per posting; writes the same bytes."""

        def set_block(self, ids, counts, values, minlength, maxlength) -> None:
            self._ids = array("I", ids)
            self._weights = array("f", counts)
            self._values = values
            self._minlength = minlength
            self._maxlength = maxlength
            self._maxweight = float(max(counts))

        def write_block(self) -> None:
            self._write_block()

        @property
        def block_limit(self) -> int:
            return self._blocklimit

        def _mini_ids(self):
            ids = self._ids
            return tuple(map(sub, ids, chain((0,), ids)))  # delta_encode

        def _mini_weights(self):
            weights = self._weights
            if weights.count(1.0) == len(weights):
                return None
            if weights.count(weights[0]) == len(weights):
                return weights[0]
            return tuple(weights)

    class WriterHooks(SegmentWriter):
        def __init__(self, ix, **kwargs):
            super().__init__(ix, **kwargs)
            if not isinstance(self.fieldwriter, W3FieldWriter):
                raise TypeError("the segment writer needs Whoosh's W3 codec")

        # -- for the subclass
        def check_document(self, names) -> None:
            self._check_state()
            self._check_fields(self.schema, names)

        def document_added(self) -> None:
            self._added = True

        def postings_files(self) -> tuple:
            """The terms and postings files the field writer writes (a forked child inherits them)."""
            return self.fieldwriter._tindex.dbfile, self.fieldwriter._postfile

        def block_postings_writer(self) -> BlockPostingsWriter:
            """Called after ``fieldwriter.start_field``: the field's postings go through the
            returned writer (``set_block``, ``write_block``; the field writer ends the last block)."""
            writer, codec = self.fieldwriter, self.codec
            writer._postwriter = BlockPostingsWriter(writer._postfile, blocklimit=codec._blocklimit,
                                                     compression=codec._compression,
                                                     inlinelimit=codec._inlinelimit)
            return writer._postwriter

        def finish_segment(self) -> None:  # commit: write what is left, close the files
            super()._flush_segment()

        def abandon_segment(self) -> None:  # cancel or a failed commit: before the files are closed
            pass

        # -- Whoosh's steps
        def _flush_segment(self):
            self.finish_segment()

        def _close_segment(self):
            self.abandon_segment()
            super()._close_segment()

    _segment_writer_base = WriterHooks
    return WriterHooks


# --------------------------------------------------------------- chalice local (development, tests)
def patch_chalice_local(translate) -> None:
    """Make Chalice's local API Gateway emulator (``chalice local``, ``chalice.test.Client``)
    pass every ``LocalGatewayException`` it raises through ``translate(exc) -> exc``, and hand
    requests of any HTTP method to the app (the standard-library server otherwise answers
    methods it has no ``do_X`` for with a bare 501; API Gateway passes them on). Chalice has
    no public hook for either: this wraps ``LocalGateway.handle_request`` and routes
    ``ChaliceRequestHandler.do_<ANY>`` to its private ``_generic_handle``. Applied once, whatever
    the installed version (development only; the pin test flags an upgrade)."""
    from chalice import local

    if getattr(local.LocalGateway, "_repaydesk_patched", False):
        return
    original = local.LocalGateway.handle_request

    def handle_request(self, method, path, headers, body):
        try:
            return original(self, method, path, headers, body)
        except local.LocalGatewayException as exc:
            raise translate(exc) from None

    def any_method(self, name):
        if name.startswith("do_"):
            return self._generic_handle
        raise AttributeError(name)

    # Replacing a library's methods is what this hook is for; mypy flags any assignment to a method
    # (and our marker attribute, which the class does not declare).
    local.LocalGateway.handle_request = handle_request  # type: ignore[method-assign]
    local.LocalGateway._repaydesk_patched = True  # type: ignore[attr-defined]
    local.ChaliceRequestHandler.__getattr__ = any_method


# --------------------------------------------------------------- moto server (local stack only)
def undo_touched_items_only() -> bool:
    """Make moto's ``TransactWriteItems`` save (and on cancellation restore) only the items it names
    instead of deep copies of whole tables. False, and moto left as it is (correct, only slower),
    on a moto version or source it was not written for."""
    import copy
    import inspect
    import threading

    import moto
    from moto.dynamodb import models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class CopyTablesByReference(threading.local):
        """Stands in for the ``copy`` module inside ``moto.dynamodb.models``: while ``active`` (one
        transaction, on its thread), moto's backup "copy" of a table is the table itself; every other
        ``copy.deepcopy`` there is the real one."""
        active = False

        def __init__(self, table_class):
            self.table_class = table_class

        def deepcopy(self, value, memo=None):
            if self.active and isinstance(value, self.table_class):
                return value
            return copy.deepcopy(value, memo)

        def __getattr__(self, name):
            return getattr(copy, name)

    original = models.DynamoDBBackend.transact_write_items
    source = inspect.getsource(original)
    if (not pinned("moto") or models.copy is not copy or "copy.deepcopy(" not in source
            or "original_table_state[table_name]" not in source):
        print(f"moto {moto.__version__}: transactions deep-copy whole tables as moto does "
              f"(private_hooks.undo_touched_items_only was written for {WRITTEN_FOR['moto']})", flush=True)
        return False
    tables_by_reference = CopyTablesByReference(Table)

    def saved_items(backend, transact_items) -> list:
        """(table, hash key, range key, a deep copy of the item or None) for every item named."""
        saved = []
        for entry in transact_items:
            for op_type, op in entry.items():
                table = backend.get_table(op["TableName"])
                if table.stream_shard is not None:
                    raise LookupError("a table with a stream: its records are restored with it")
                attrs = op["Item"] if op_type == "Put" else op["Key"]
                hash_value = DynamoType(attrs[table.hash_key_attr])
                range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
                saved.append((table, hash_value, range_value,
                              copy.deepcopy(table.get_item(hash_value, range_value))))
        return saved

    def restore(saved) -> None:
        for table, hash_value, range_value, item in reversed(saved):  # the first copy of a key wins
            if item is None:
                table.delete_item(hash_value, range_value)
            elif range_value is not None:
                table.items[hash_value][range_value] = item
            else:
                table.items[hash_value] = item

    def transact_write_items(self, transact_items):
        try:
            saved = saved_items(self, transact_items)
        except Exception:   # a malformed request or a stream: moto's own way (it reports the error)
            return original(self, transact_items)
        tables_by_reference.active = True
        try:
            return original(self, transact_items)
        except BaseException:
            restore(saved)
            raise
        finally:
            tables_by_reference.active = False

    # The stand-in replaces the ``copy`` module inside moto's models, and the method on moto's backend: this
    # hook's purpose, which mypy flags (a module attribute given another type; an assignment to a method).
    models.copy = tables_by_reference  # type: ignore[assignment]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    return True


def query_reads_its_partition_only() -> bool:
    """Make moto's Query on a table's own key read the queried partition instead of every item of the
    table (moto 5.2.5 lists and sorts all of them for each Query, so a user's repayment list cost grew
    with everyone's data). Queries on an index are left as they are. False, and moto left as it is, on a
    moto version or source it was not written for."""
    import inspect
    import threading

    import moto
    from moto.dynamodb.models.table import Table

    original_query, original_all_items = Table.query, Table.all_items
    source = inspect.getsource(original_query)
    if (not pinned("moto") or "for item in self.all_items()" not in source
            or "item.hash_key == hash_key" not in source):
        print(f"moto {moto.__version__}: each Query reads the whole table as moto does "
              f"(private_hooks.query_reads_its_partition_only was written for {WRITTEN_FOR['moto']})", flush=True)
        return False
    signature = inspect.signature(original_query)
    partition = threading.local()

    def all_items(self):
        wanted = getattr(partition, "key", None)
        if wanted is None or wanted[0] is not self:
            return original_all_items(self)
        if wanted[1] not in self.items:   # (a plain lookup would add an empty partition to moto's defaultdict)
            return []
        found = self.items[wanted[1]]
        return list(found.values()) if self.range_key_attr else [found]

    def query(self, *args, **kwargs):
        arguments = signature.bind(self, *args, **kwargs).arguments
        if arguments.get("index_name") or arguments.get("hash_key") is None:
            return original_query(self, *args, **kwargs)
        partition.key = (self, arguments["hash_key"])
        try:
            return original_query(self, *args, **kwargs)
        finally:
            partition.key = None

    # Replacing moto's methods is this hook's purpose (mypy flags any assignment to a method).
    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query  # type: ignore[method-assign]
    return True


def remember_what_never_changes() -> bool:
    """Two answers moto 5.2.5 works out again for every request, although they cannot change while it runs:
    which services it has (a directory listing and a ``stat`` per entry of moto's package, to route each
    request) and which actions a service's handler class has (``inspect.getmembers`` of the class). Both
    are now worked out once: a GetItem took 4.6 ms of moto's CPU time, now 3.5 (medians of 5 alternated
    runs of 1,200 calls from 20 threads, load average ~10)."""
    import functools

    from moto import backends
    from moto.core import responses

    if not pinned("moto"):
        return False
    services = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: services
    responses.method_names_from_class = functools.cache(responses.method_names_from_class)
    return True
