"""Benchmarks: scripts that measure the system on this machine and print figures.

``python -m benchmarks.run`` (``make bench``) runs every benchmark module of this package: a module
whose name does not start with ``_`` and that has ``main(argv: list[str]) -> int``. Modules whose
names start with ``_`` are helpers. Each benchmark measures a baseline in the same run, so its
figures can be read against what the machine itself gives; results go to docs/benchmarks.md.
Speed is never asserted in tests.
"""
