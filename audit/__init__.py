"""Audit, record and publish public-safety statistics.

The flow of one release: ingest -> validate -> log -> publish. Each stage is a
subpackage of its own; `audit.pipeline` strings them together and `audit.cli`
is a thin command-line layer over `audit.pipeline`.
"""

__version__ = "0.1.0"
