"""Editable documents with versions and a review: the official contact lines and the workspace's quick replies.

Each kind (``contacts``, ``macros``) is one whole document (what ``kb/contacts.yaml`` and
``chalicelib/escalation/macros.yaml`` hold), kept as numbered versions: draft → in review → published, every
version with who, when and a change note. Readers (``search/contacts.py``, ``escalation/macros.py``) take the
published version through ``service.published`` (cached a few seconds per container) and fall back to the
packaged YAML. The facade is ``service``; ``schemas`` are the API's models.
"""
