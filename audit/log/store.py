"""The change log's tables and its insert-only API.

The log is a DuckDB file attached as `log` to a working connection, so a
release loaded and validated in memory is recorded with one transaction.
Structured values (keys, findings, waivers) are stored as canonical JSON text,
so what is hashed is exactly what is stored.
"""

from __future__ import annotations

import getpass
import heapq
import json
import os
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import duckdb

from audit.errors import StateError
from audit.log.chain import GENESIS, TABLE_KEY, entry_hash
from audit.sql import ident, literal

ALIAS = "log"
CHAIN_COLUMNS = "dataset VARCHAR NOT NULL, seq BIGINT NOT NULL, recorded_at VARCHAR NOT NULL, prev_hash VARCHAR NOT NULL, hash VARCHAR NOT NULL"

# Each table's own columns; every table also has the chain columns above.
TABLES: dict[str, str] = {
    # data_digest: see `data_digest`; it makes the stored copy of the release's rows part of the chain.
    # normalisations: what was fixed in the file to read it (JSON; see audit.ingest.normalise).
    "releases": "release_id VARCHAR, version VARCHAR, sha256 VARCHAR, source_name VARCHAR, "
    "row_count BIGINT, recorded_by VARCHAR, data_table VARCHAR, data_digest VARCHAR, normalisations VARCHAR",
    # claims and expectations (every expectation run, with its findings' positions) as JSON.
    "validations": "release_id VARCHAR, suite_sha256 VARCHAR, success BOOLEAN, finding_count BIGINT, "
    "waived_count BIGINT, claims VARCHAR, expectations VARCHAR",
    "findings": "release_id VARCHAR, \"check\" VARCHAR, severity VARCHAR, \"key\" VARCHAR, \"columns\" VARCHAR, "
    "expected VARCHAR, observed VARCHAR, message VARCHAR, waived BOOLEAN, waiver_reason VARCHAR",
    "waivers": "release_id VARCHAR, waiver VARCHAR",
    # A publication's own hash is the chain head its package carries. files: sha256 of each data file
    # of the package (JSON); schema_sha256: of its published schema (for the version rule);
    # signing_key: fingerprint of the Ed25519 key that signed the head, if any.
    "publications": "release_id VARCHAR, package_version VARCHAR, path VARCHAR, files VARCHAR, "
    "schema_sha256 VARCHAR, signing_key VARCHAR, recorded_by VARCHAR",
    # Revision notes shipped with a release, each as JSON (id, where, columns, reason, reference, approved_by).
    "notes": "release_id VARCHAR, note_id VARCHAR, note VARCHAR",
    # Every change against the baseline (the last published release): key as JSON, old and new as JSON values.
    "changes": "release_id VARCHAR, baseline_release_id VARCHAR, change VARCHAR, \"key\" VARCHAR, "
    "\"column\" VARCHAR, old VARCHAR, new VARCHAR, note_id VARCHAR",
    # One per diff: counts by kind, explained and unexplained, and the reclassification summary (JSON).
    "revisions": "release_id VARCHAR, baseline_release_id VARCHAR, summary VARCHAR",
}
DATA_SCHEMA = "release_data"
# Bumped whenever a table or the hashed form changes; a log of another format is refused, not misread.
LOG_FORMAT = "2"


def as_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def who() -> str:
    return os.environ.get("AUDIT_USER") or getpass.getuser()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _entry(table: str, dataset: str, seq: int, now: str, prev: str, row: dict[str, Any]) -> dict[str, Any]:
    """The chain entry for `row` at position `seq` after the entry hashed `prev`, with its own hash."""
    entry = {TABLE_KEY: table, "dataset": dataset, "seq": seq, "recorded_at": now, "prev_hash": prev, **row}
    entry["hash"] = entry_hash(entry)
    return entry


def open_log(
    con: duckdb.DuckDBPyConnection, path: Path, read_only: bool = False, lock_timeout: float = 60.0
) -> "ChangeLog":
    """Attach the log file at `path` to `con` (creating it if new, unless `read_only`) and return its API.

    DuckDB lets one process write a file at a time; while another holds it, wait up to
    `lock_timeout` seconds, then give up with a StateError (exit 2), never a traceback.
    """
    if read_only and not path.exists():
        raise StateError(f"there is no change log at {path} yet: run `audit ingest` first")
    deadline = time.monotonic() + lock_timeout
    pause = 0.05
    while True:
        try:
            con.execute(f"ATTACH {literal(str(path))} AS {ALIAS}" + (" (READ_ONLY)" if read_only else ""))
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise StateError(f"cannot open the change log {path}: {exc}") from exc
            if time.monotonic() >= deadline:
                raise StateError(
                    f"the change log {path} is in use by another audit process and stayed so for "
                    f"{lock_timeout:g} s; nothing was written. Try again when it finishes, or raise --lock-timeout"
                ) from exc
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
    log = ChangeLog(con)
    log.check_format(path, create=not read_only)
    return log


class ChangeLog:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def check_format(self, path: Path, create: bool) -> None:
        """Create the tables of a new log; refuse a log written in another format."""
        tables = set(self._table_names("main"))
        if not tables:
            if create:
                self._create_tables()
            return
        found = self.con.execute(f"SELECT value FROM {ALIAS}.meta WHERE name = 'format'").fetchall() \
            if "meta" in tables else []
        if not found or found[0][0] != LOG_FORMAT:
            version = found[0][0] if found else "1"
            raise StateError(f"the change log {path} is in format {version}; this audit reads format {LOG_FORMAT}")

    def _create_tables(self) -> None:
        with self.transaction():
            self.con.execute(f"CREATE TABLE {ALIAS}.meta (name VARCHAR, value VARCHAR)")
            self.con.execute(f"INSERT INTO {ALIAS}.meta VALUES ('format', ?)", [LOG_FORMAT])
            self.con.execute(f"CREATE SCHEMA {ALIAS}.{DATA_SCHEMA}")
            for name, columns in TABLES.items():
                self.con.execute(f"CREATE TABLE {ALIAS}.{name} ({CHAIN_COLUMNS}, {columns})")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    # -- the chain -------------------------------------------------------

    def head(self, dataset: str) -> tuple[int, str]:
        """(seq, hash) of the dataset's newest entry; (0, GENESIS) for a new dataset."""
        union = " UNION ALL ".join(f"SELECT seq, hash FROM {ALIAS}.{t} WHERE dataset = ?" for t in TABLES)
        # fetchall, not fetchone: DuckDB refuses new work on a connection while a result is unfinished.
        rows = self.con.execute(
            f"SELECT seq, hash FROM ({union}) ORDER BY seq DESC LIMIT 1", [dataset] * len(TABLES)
        ).fetchall()
        return (rows[0][0], rows[0][1]) if rows else (0, GENESIS)

    def append(self, table: str, dataset: str, rows: list[dict[str, Any]]) -> str:
        """Insert `rows` into `table` as the next entries of `dataset`'s chain; return the new head hash."""
        seq, prev = self.head(dataset)
        now = _now()
        entries = []
        for row in rows:
            seq += 1
            entry = _entry(table, dataset, seq, now, prev, row)
            prev = entry["hash"]
            entries.append(entry)
        if entries:
            self._insert(table, entries)
        return prev

    def next_entry(self, table: str, dataset: str, row: dict[str, Any]) -> dict[str, Any]:
        """The entry `append` would record for `row` next (with its hash), without recording it."""
        seq, prev = self.head(dataset)
        return _entry(table, dataset, seq + 1, _now(), prev, row)

    def append_entry(self, entry: dict[str, Any]) -> None:
        """Record an entry made by `next_entry`, if the chain has not moved since."""
        if self.head(entry["dataset"]) != (entry["seq"] - 1, entry["prev_hash"]):
            raise StateError(f"the change log of {entry['dataset']} moved while an entry was being written")
        self._insert(entry[TABLE_KEY], [entry])

    def _insert(self, table: str, entries: list[dict[str, Any]]) -> None:
        """One INSERT for all `entries`, through a DataFrame: a large diff logs hundreds of thousands at once.
        The table's name is hashed into each entry (so an entry cannot move to another table) but not stored:
        where an entry is stored says it."""
        import pandas as pd

        names = [n for n in entries[0] if n != TABLE_KEY]
        frame = pd.DataFrame([[e[n] for n in names] for e in entries], columns=names, dtype=object)
        columns = ", ".join(ident(n) for n in names)
        self.con.register("__log_entries", frame)
        try:
            self.con.execute(f"INSERT INTO {ALIAS}.{table} ({columns}) SELECT {columns} FROM __log_entries")
        finally:
            self.con.unregister("__log_entries")

    # -- reads -----------------------------------------------------------

    def _table_names(self, schema: str) -> list[str]:
        return sorted(r[0] for r in self.con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = ?", [ALIAS, schema]
        ).fetchall())

    def missing_tables(self) -> list[str]:
        present = set(self._table_names("main"))
        return [t for t in TABLES if t not in present]

    def datasets(self) -> list[str]:
        union = " UNION ".join(f"SELECT DISTINCT dataset FROM {ALIAS}.{t}" for t in TABLES)
        return sorted(r[0] for r in self.con.execute(union).fetchall())

    def entries(self, dataset: str, batch: int = 10_000) -> Iterator[dict[str, Any]]:
        """Every entry of `dataset`'s chain, in seq order, each with its table's name.

        Streams: one cursor per table, merged by seq, so a long log never sits in memory whole."""

        def table_entries(table: str) -> Iterator[dict[str, Any]]:
            cursor = self.con.cursor()
            try:
                cursor.execute(f"SELECT * FROM {ALIAS}.{table} WHERE dataset = ? ORDER BY seq, hash", [dataset])
                names = [d[0] for d in cursor.description]
                while rows := cursor.fetchmany(batch):
                    for row in rows:
                        yield {TABLE_KEY: table, **dict(zip(names, row))}
            finally:
                cursor.close()

        # Cursors see committed entries only, which is what a chain is made of.
        yield from heapq.merge(*(table_entries(t) for t in TABLES), key=lambda e: (e["seq"], e["hash"]))

    def entry_at(self, dataset: str, seq: int) -> list[dict[str, Any]]:
        """The entries recorded at position `seq` (one, unless someone inserted another)."""
        found = []
        for table in TABLES:
            for row in self._rows(f"SELECT * FROM {ALIAS}.{table} WHERE dataset = ? AND seq = ?", [dataset, seq]):
                found.append({TABLE_KEY: table, **row})
        return found

    def releases(self, dataset: str) -> list[dict[str, Any]]:
        return self._rows(f"SELECT * FROM {ALIAS}.releases WHERE dataset = ? ORDER BY seq", [dataset])

    def publications(self, dataset: str) -> list[dict[str, Any]]:
        return self._rows(f"SELECT * FROM {ALIAS}.publications WHERE dataset = ? ORDER BY seq", [dataset])

    def publication_of(self, release_id: str) -> dict[str, Any] | None:
        rows = self._rows(f"SELECT * FROM {ALIAS}.publications WHERE release_id = ? ORDER BY seq DESC LIMIT 1",
                          [release_id])
        return rows[0] if rows else None

    def data_tables(self) -> list[str]:
        return self._table_names(DATA_SCHEMA)

    def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r)) for r in cursor.fetchall()]

    def release_by_sha(self, dataset: str, sha256: str) -> dict[str, Any] | None:
        rows = self._rows(f"SELECT * FROM {ALIAS}.releases WHERE dataset = ? AND sha256 = ? ORDER BY seq DESC",
                          [dataset, sha256])
        return rows[0] if rows else None

    def release_by_version(self, dataset: str, version: str) -> dict[str, Any] | None:
        rows = self._rows(f"SELECT * FROM {ALIAS}.releases WHERE dataset = ? AND version = ?", [dataset, version])
        return rows[0] if rows else None

    def latest_release(self, dataset: str) -> dict[str, Any] | None:
        rows = self._rows(f"SELECT * FROM {ALIAS}.releases WHERE dataset = ? ORDER BY seq DESC LIMIT 1", [dataset])
        return rows[0] if rows else None

    def last_published(self, dataset: str, before_seq: int | None = None) -> dict[str, Any] | None:
        """The release most recently published (of those recorded before entry `before_seq`), or None."""
        limit = "" if before_seq is None else f"AND r.seq < {int(before_seq)}"
        rows = self._rows(
            f"SELECT r.* FROM {ALIAS}.releases r JOIN {ALIAS}.publications p "
            f"ON p.dataset = r.dataset AND p.release_id = r.release_id "
            f"WHERE r.dataset = ? {limit} ORDER BY p.seq DESC LIMIT 1", [dataset])
        return rows[0] if rows else None

    def release_before(self, dataset: str, seq: int) -> dict[str, Any] | None:
        """The release recorded just before the entry `seq`."""
        rows = self._rows(f"SELECT * FROM {ALIAS}.releases WHERE dataset = ? AND seq < ? ORDER BY seq DESC LIMIT 1",
                          [dataset, seq])
        return rows[0] if rows else None

    def notes(self, release_id: str) -> list[dict[str, Any]]:
        """The revision notes shipped with a release, as written."""
        rows = self._rows(f"SELECT note FROM {ALIAS}.notes WHERE release_id = ? ORDER BY seq", [release_id])
        return [json.loads(r["note"]) for r in rows]

    def changes(self, release_id: str) -> list[dict[str, Any]]:
        """Every change recorded for a release against its baseline, key and values decoded."""
        rows = self._rows(f"SELECT * FROM {ALIAS}.changes WHERE release_id = ? ORDER BY seq", [release_id])
        for row in rows:
            for name in ("key", "old", "new"):
                row[name] = None if row[name] is None else json.loads(row[name])
        return rows

    def revision_summary(self, release_id: str) -> dict[str, Any] | None:
        rows = self._rows(f"SELECT summary FROM {ALIAS}.revisions WHERE release_id = ? ORDER BY seq DESC LIMIT 1",
                          [release_id])
        return json.loads(rows[0]["summary"]) if rows else None

    def release_count(self, dataset: str) -> int:
        return self.con.execute(f"SELECT count(*) FROM {ALIAS}.releases WHERE dataset = ?", [dataset]).fetchall()[0][0]

    def findings(self, release_id: str) -> list[dict[str, Any]]:
        rows = self._rows(f"SELECT * FROM {ALIAS}.findings WHERE release_id = ? ORDER BY seq", [release_id])
        for row in rows:
            for name in ("key", "columns", "expected", "observed"):
                row[name] = json.loads(row[name])
        return rows

    def validation(self, release_id: str) -> dict[str, Any]:
        """The release's validation entry (claims and expectations still as JSON text)."""
        rows = self._rows(f"SELECT * FROM {ALIAS}.validations WHERE release_id = ? ORDER BY seq DESC LIMIT 1",
                          [release_id])
        return rows[0]

    def data_table(self, name: str) -> str:
        return f"{ALIAS}.{DATA_SCHEMA}.{ident(name)}"

    def data_digest(self, name: str) -> str:
        return data_digest(self.con, self.data_table(name))


def data_digest(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """A digest of a stored release's rows, so they are covered by the chain without hashing them one
    entry each: sha256 of each row (its position and its values as text, NULL apart from empty),
    truncated to 64 bits and summed. Any changed, added, removed or moved row changes it.

    A sum of truncated hashes is cheap (about 0.5 s a million rows) but weaker than a hash of the
    whole table: it catches any edit, not a forger who searches for a compensating set of rows.
    """
    names = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    values = ", ".join(f"coalesce(CAST({ident(n)} AS VARCHAR), chr(0))" for n in names)
    row_text = f"concat_ws(chr(31), rowid, {values})"
    count, total = con.execute(
        f"SELECT count(*), sum(CAST(CAST('0x' || left(sha256({row_text}), 16) AS UBIGINT) AS HUGEINT)) FROM {table}"
    ).fetchall()[0]
    return f"sha256-sum64:{count}:{total or 0:x}"
