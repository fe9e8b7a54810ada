"""Knowledge-base articles as content (issue #23): versions, the four-eyes review workflow, import/export of ``kb/``.

The facade is ``service.py`` (docs/content.md)."""
