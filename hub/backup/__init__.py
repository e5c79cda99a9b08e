"""Backups of the hub's database and their restore (``community backup``, ``community restore``).

A backup is one file: an uncompressed tar holding ``manifest.json`` (what the backup is: the hub's
version, the schema's Alembic revision, the time, the database kind, the rows of every table, the
data's SHA-256) and the database itself, a ``pg_dump`` custom-format archive or a SQLite file made
with SQLite's online backup API. See docs/operations.md.
"""
