"""Log: the append-only DuckDB change log, the office's audit trail.

Every row of every table is an entry in its dataset's hash chain: it carries
`seq` (its position), `prev_hash` (the hash of the entry before it) and `hash`
(sha256 of its own canonical serialisation, which includes `prev_hash`). The
code only inserts. See `chain` for the serialisation and `store` for the tables.
"""

from audit.log.store import ChangeLog, open_log

__all__ = ["ChangeLog", "open_log"]
