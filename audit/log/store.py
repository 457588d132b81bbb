"""The change log's tables and its insert-only API.

The log is a DuckDB file attached as `log` to a working connection, so a
release loaded and validated in memory is recorded with one transaction.
Structured values (keys, findings, waivers) are stored as canonical JSON text,
so what is hashed is exactly what is stored.
"""

from __future__ import annotations

import heapq
import json
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

import duckdb

from audit.engine import parquet
from audit.errors import NotReadableHere, StateError, TamperError
from audit.findings import Finding, RevisionSummary
from audit.labels import label_key
from audit.log import copies
from audit.log.chain import GENESIS, TABLE_KEY, entry_hash
from audit.log.entries import (
    Change,
    Entry,
    Publication,
    Release,
    ValidationRecord,
    decode,
)
from audit.sql import ident, literal

ALIAS = "log"
CHAIN_COLUMNS = ("dataset VARCHAR NOT NULL, seq BIGINT NOT NULL, recorded_at VARCHAR NOT NULL, prev_hash VARCHAR NOT NULL, "
                 "hash VARCHAR NOT NULL")

# Each table's own columns; every table also has the chain columns above.
TABLES: dict[str, str] = {
    # data_digest: see audit.log.digest; it makes the stored copy of the release's rows part of the chain.
    # normalisations: what was fixed in the file to read it (JSON; see audit.ingest.normalise).
    # definition: the dataset's descriptor when the release was recorded (JSON), so that verify can redo its diff.
    # supersedes: the release of the same file this one re-audits (with new waivers or notes), or NULL.
    "releases": "release_id VARCHAR, version VARCHAR, sha256 VARCHAR, source_name VARCHAR, "
    "row_count BIGINT, recorded_by VARCHAR, data_table VARCHAR, data_digest VARCHAR, normalisations VARCHAR, "
    "definition VARCHAR, supersedes VARCHAR",
    # claims and expectations (every expectation run, with its findings' positions) as JSON.
    # software: the versions of the tool, GX, DuckDB and Python that ran it (JSON).
    "validations": "release_id VARCHAR, suite_sha256 VARCHAR, success BOOLEAN, finding_count BIGINT, "
    "waived_count BIGINT, claims VARCHAR, expectations VARCHAR, software VARCHAR",
    "findings": "release_id VARCHAR, \"check\" VARCHAR, severity VARCHAR, \"key\" VARCHAR, \"columns\" VARCHAR, "
    "expected VARCHAR, observed VARCHAR, message VARCHAR, waived BOOLEAN, waiver_reason VARCHAR",
    "waivers": "release_id VARCHAR, waiver VARCHAR",
    # A publication's own hash is the chain head its package carries. files: sha256 of every file of the
    # package but its head file and its log extract (JSON); schema_sha256: of its published schema (for the
    # version rule); signing_key: fingerprint of the Ed25519 key that signed the head, if any; previous_seq:
    # the dataset's previous publication (0 for none), after which the package's log extract starts.
    "publications": "release_id VARCHAR, package_version VARCHAR, path VARCHAR, files VARCHAR, "
    "schema_sha256 VARCHAR, signing_key VARCHAR, recorded_by VARCHAR, previous_seq BIGINT",
    # Revision notes shipped with a release, each as JSON (id, where, columns, reason, reference, approved_by).
    "notes": "release_id VARCHAR, note_id VARCHAR, note VARCHAR",
    # Every change against the baseline (the last published release): key as JSON, old and new as JSON values.
    "changes": "release_id VARCHAR, baseline_release_id VARCHAR, change VARCHAR, \"key\" VARCHAR, "
    "\"column\" VARCHAR, old VARCHAR, new VARCHAR, note_id VARCHAR",
    # One per diff: counts by kind, explained and unexplained, and the reclassification summary (JSON).
    "revisions": "release_id VARCHAR, baseline_release_id VARCHAR, summary VARCHAR",
}
META_TABLE = "meta"
DATA_SCHEMA = "release_data"
# Bumped whenever a table or the hashed form changes; a log of another format is refused, not misread.
LOG_FORMAT = "3"


def as_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


NOT_STATED = "(not stated)"
APPEND_BATCH = 20_000  # entries per INSERT (ChangeLog.append)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _entry(table: str, dataset: str, seq: int, now: str, prev: str, row: dict[str, Any]) -> dict[str, Any]:
    """The chain entry for `row` at position `seq` after the entry hashed `prev`, with its own hash."""
    entry = {TABLE_KEY: table, "dataset": dataset, "seq": seq, "recorded_at": now, "prev_hash": prev, **row}
    entry["hash"] = entry_hash(entry)
    return entry


def open_log(
    con: duckdb.DuckDBPyConnection, path: Path, read_only: bool = False, lock_timeout: float = 60.0,
    reshaped_ok: bool = False,
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
    log = ChangeLog(con, path)
    log.check_format(path, create=not read_only, reshaped_ok=reshaped_ok)
    if not read_only:
        log.finish_copies()  # only a writer may: it holds the lock, so no ingest is under way
    return log


class ChangeLog:
    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path | None = None) -> None:
        self.con = con
        self.path = path
        self._file = _file_identity(path) if path is not None else None
        self.created = False  # this command created the log (so a failure of it may remove the file)

    def remove_if_created(self) -> None:
        """Remove the log file (and its write-ahead log) if this command created it: a command that fails leaves
        nothing behind. Only the process that created the file (holding DuckDB's lock on it since) does this."""
        if self.created and self.path is not None:
            for path in (self.path, self.path.with_name(self.path.name + ".wal")):
                path.unlink(missing_ok=True)
            folder = copies.folder(self.path)
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()

    def require_in_place(self) -> None:
        """Refuse (StateError) if the log file was deleted or replaced since it was opened: whatever this
        command recorded went with it, and must not be reported as recorded."""
        if self.path is not None and _file_identity(self.path) != self._file:
            raise StateError(f"the change log {self.path} was deleted or replaced while this command ran, so what it "
                             "recorded is not in the log; restore the log (from a backup) and run the command again")

    def check_format(self, path: Path, create: bool, reshaped_ok: bool = False) -> None:
        """Create the tables of a new log; refuse a log written in another format, or (unless `reshaped_ok`: verify
        reports it instead) one whose tables do not have the columns this format writes."""
        tables = set(self._table_names("main"))
        if not tables:
            if create:
                self._create_tables()
                self.created = True
            return
        found = self.con.execute(f"SELECT value FROM {ALIAS}.meta WHERE name = 'format'").fetchall() \
            if "meta" in tables else []
        if not found or found[0][0] != LOG_FORMAT:
            version = found[0][0] if found else "1"
            raise StateError(f"the change log {path} is in format {version}; this audit reads format {LOG_FORMAT}")
        reshaped = [] if reshaped_ok else [t for t, expected in self._expected_columns().items()
                                           if t in tables and self._columns(t) != expected]
        if reshaped:
            raise StateError(f"the change log {path}: table(s) {', '.join(reshaped)} do not have the columns format "
                             f"{LOG_FORMAT} writes (reshaped behind the tool's back, or written by another build); run "
                             "`audit verify`")

    @staticmethod
    def _expected_columns() -> dict[str, list[str]]:
        return {table: [c.split()[0].strip('"') for c in (CHAIN_COLUMNS + ", " + columns).split(", ")]
                for table, columns in TABLES.items()}

    def _columns(self, table: str) -> list[str]:
        return [r[0] for r in self.con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = ? AND schema_name = 'main' "
            "AND table_name = ? ORDER BY column_index", [ALIAS, table]).fetchall()]

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

    def entry_hashes(self, dataset: str) -> list[str]:
        """The hash of every entry of `dataset`'s chain, in seq order: the leaves of its tree (audit.log.tree)."""
        union = " UNION ALL ".join(f"SELECT seq, hash FROM {ALIAS}.{t} WHERE dataset = ?" for t in TABLES)
        rows = self.con.execute(f"SELECT hash FROM ({union}) ORDER BY seq", [dataset] * len(TABLES)).fetchall()
        return [h for (h,) in rows]

    def append(self, table: str, dataset: str, rows: Iterable[dict[str, Any]]) -> str:
        """Insert `rows` into `table` as the next entries of `dataset`'s chain; return the new head hash.

        `rows` may be a generator: they are made into entries and inserted `APPEND_BATCH` at a time, so a diff of
        hundreds of thousands of changes never holds them all as entries and a DataFrame at once (a 10M-row
        release with 194k changes: its ingest's peak 2.6 GiB, 100-140 MiB more as one INSERT). In one transaction
        (the caller's) it is one write all the same."""
        seq, prev = self.head(dataset)
        now = _now()
        entries = []
        for row in rows:
            seq += 1
            entry = _entry(table, dataset, seq, now, prev, row)
            prev = entry["hash"]
            entries.append(entry)
            if len(entries) == APPEND_BATCH:
                self._insert(table, entries)
                entries = []
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

    def entries(self, dataset: str, batch: int = 10_000, after_seq: int = 0) -> Iterator[dict[str, Any]]:
        """Every entry of `dataset`'s chain (after entry `after_seq`), in seq order, each with its table's name.

        Streams: one cursor per table, merged by seq, so a long log never sits in memory whole."""

        def table_entries(table: str) -> Iterator[dict[str, Any]]:
            cursor = self.con.cursor()
            try:
                cursor.execute(f"SELECT * FROM {ALIAS}.{table} WHERE dataset = ? AND seq > ? ORDER BY seq, hash",
                               [dataset, after_seq])
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

    def _releases(self, where: str, params: list[Any], order: str = "seq") -> list[Release]:
        return [Release.from_row(r) for r in
                self._rows(f"SELECT * FROM {ALIAS}.releases WHERE {where} ORDER BY {order}", params)]

    def releases(self, dataset: str) -> list[Release]:
        return self._releases("dataset = ?", [dataset])

    def publications(self, dataset: str) -> list[Publication]:
        return [Publication.from_row(r) for r in
                self._rows(f"SELECT * FROM {ALIAS}.publications WHERE dataset = ? ORDER BY seq", [dataset])]

    def publication_of(self, release_id: str) -> Publication | None:
        rows = self._rows(f"SELECT * FROM {ALIAS}.publications WHERE release_id = ? ORDER BY seq DESC LIMIT 1",
                          [release_id])
        return Publication.from_row(rows[0]) if rows else None

    def data_tables(self) -> list[str]:
        """Every stored copy: the tables in the log file and the Parquet files beside it."""
        files = copies.present(self.path, self._named_copies()) if self.path is not None else []
        return self._table_names(DATA_SCHEMA) + files

    def finish_copies(self) -> None:
        """Put right the files of an ingest interrupted before or after its commit (see audit.log.copies)."""
        if self.path is not None and "releases" in self._table_names("main"):
            copies.finish(self.path, self._named_copies())

    def _rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        cursor = self.con.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r)) for r in cursor.fetchall()]

    def release_by_sha(self, dataset: str, sha256: str) -> Release | None:
        found = self._releases("dataset = ? AND sha256 = ?", [dataset, sha256], "seq DESC")
        return found[0] if found else None

    def release_by_version(self, dataset: str, version: str) -> Release | None:
        """Labels that differ only in case or Unicode form are one label (see audit.labels)."""
        wanted = label_key(version)
        found = [r for r in self._releases("dataset = ?", [dataset]) if label_key(r.version) == wanted]
        return found[0] if found else None

    def release_by_id(self, release_id: str) -> Release | None:
        found = self._releases("release_id = ?", [release_id])
        return found[0] if found else None

    def latest_release(self, dataset: str) -> Release | None:
        found = self._releases("dataset = ?", [dataset], "seq DESC")
        return found[0] if found else None

    def last_published(self, dataset: str, before_seq: int | None = None) -> Release | None:
        """The release most recently published (of those recorded before entry `before_seq`), or None."""
        limit = "" if before_seq is None else f"AND r.seq < {int(before_seq)}"
        rows = self._rows(
            f"SELECT r.* FROM {ALIAS}.releases r JOIN {ALIAS}.publications p "
            f"ON p.dataset = r.dataset AND p.release_id = r.release_id "
            f"WHERE r.dataset = ? {limit} ORDER BY p.seq DESC LIMIT 1", [dataset])
        return Release.from_row(rows[0]) if rows else None

    def release_before(self, dataset: str, seq: int) -> Release | None:
        """The release recorded just before the entry `seq`."""
        found = self._releases("dataset = ? AND seq < ?", [dataset, seq], "seq DESC")
        return found[0] if found else None

    def waivers(self, release_id: str) -> list[dict[str, Any]]:
        """The waivers given with a release, as written."""
        rows = self._rows(f"SELECT waiver FROM {ALIAS}.waivers WHERE release_id = ? ORDER BY seq", [release_id])
        return [decode(r["waiver"]) for r in rows]

    def notes(self, release_id: str) -> list[dict[str, Any]]:
        """The revision notes shipped with a release, as written."""
        rows = self._rows(f"SELECT note FROM {ALIAS}.notes WHERE release_id = ? ORDER BY seq", [release_id])
        return [decode(r["note"]) for r in rows]

    def changes(self, release_id: str) -> list[Change]:
        """Every change recorded for a release against its baseline."""
        return [Change.from_row(r) for r in
                self._rows(f"SELECT * FROM {ALIAS}.changes WHERE release_id = ? ORDER BY seq", [release_id])]

    def revision_summary(self, release_id: str) -> RevisionSummary | None:
        """What the release's diff found against its baseline, as recorded; None: it had no baseline."""
        rows = self._rows(f"SELECT summary FROM {ALIAS}.revisions WHERE release_id = ? ORDER BY seq DESC LIMIT 1",
                          [release_id])
        summary = decode(rows[0]["summary"]) if rows else None
        return RevisionSummary.from_dict(summary) if summary is not None else None

    def release_labels(self, dataset: str) -> set[str]:
        """Every release label of the dataset, as compared (audit.labels.label_key)."""
        return {label_key(r[0]) for r in self.con.execute(
            f"SELECT version FROM {ALIAS}.releases WHERE dataset = ?", [dataset]).fetchall()}

    def findings(self, release_id: str) -> list[Finding]:
        """The release's findings as recorded, waived ones included."""
        rows = self._rows(f"SELECT * FROM {ALIAS}.findings WHERE release_id = ? ORDER BY seq", [release_id])
        return [Finding(r["check"], r["severity"], decode(r["key"]), decode(r["columns"]),
                        decode(r["expected"]), decode(r["observed"]), r["message"], r["waived"],
                        r["waiver_reason"]) for r in rows]

    def validation(self, release_id: str) -> ValidationRecord:
        """The release's latest validation entry."""
        rows = self._rows(f"SELECT * FROM {ALIAS}.validations WHERE release_id = ? ORDER BY seq DESC LIMIT 1",
                          [release_id])
        return ValidationRecord.from_row(rows[0])

    # -- what the file holds besides -------------------------------------------

    def unexpected_objects(self) -> list[str]:
        """Everything in the log file that the tool did not put there, one sentence each: other schemas, tables,
        views, macros, sequences, indexes, types, columns, and `meta` rows other than the one format row."""
        added = "which the tool never creates (added behind its back)"
        found = []
        q = lambda sql: self.con.execute(sql, [ALIAS]).fetchall()  # noqa: E731
        for (schema,) in q("SELECT schema_name FROM duckdb_schemas() WHERE database_name = ? AND NOT internal"):
            if schema not in ("main", DATA_SCHEMA):
                found.append(f"the log file holds schema {schema!r}, {added}")
        for schema, name in q("SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ?"):
            if schema == "main" and name not in TABLES and name != META_TABLE:
                found.append(f"the log file holds table {name!r}, {added}")
            elif schema not in ("main", DATA_SCHEMA):
                found.append(f"the log file holds table {schema}.{name}, {added}")
        for kind, sql in (
            ("view", "SELECT schema_name || '.' || view_name FROM duckdb_views() WHERE database_name = ? AND NOT internal"),
            ("macro or function", "SELECT DISTINCT schema_name || '.' || function_name FROM duckdb_functions() "
                                  "WHERE database_name = ? AND NOT internal"),
            ("sequence", "SELECT schema_name || '.' || sequence_name FROM duckdb_sequences() WHERE database_name = ?"),
            ("index", "SELECT schema_name || '.' || index_name FROM duckdb_indexes() WHERE database_name = ?"),
            ("type", "SELECT schema_name || '.' || type_name FROM duckdb_types() WHERE database_name = ? "
                     "AND NOT internal"),
        ):
            found += [f"the log file holds {kind} {name!r}, {added}" for (name,) in q(sql)]
        for table, expected in self._expected_columns().items():
            actual = self._columns(table)
            if actual and actual != expected:
                extra, missing = [c for c in actual if c not in expected], [c for c in expected if c not in actual]
                found.append(f"table {table!r} does not have the columns the log writes (added: {extra or 'none'}, "
                             f"missing: {missing or 'none'}{', reordered' if not extra and not missing else ''})")
        if META_TABLE in self._table_names("main"):
            rows = self.con.execute(f"SELECT * FROM {ALIAS}.{META_TABLE}").fetchall()
            if rows != [("format", LOG_FORMAT)]:
                found.append(f"meta holds the rows {rows!r}, where the tool writes one format row")
        if self.path is not None:
            found += [f"{copies.folder(self.path).name}/{name} is beside the log's copies, where the tool puts only "
                      "Parquet copies of releases (added behind its back)" for name in copies.strangers(self.path)]
        return found

    def data_table(self, name: str) -> str:
        """SQL for a release's stored rows (see audit.log.copies): its table, or its Parquet file read in place.
        Rows kept where they lie (a URI) are not this machine's to read: NotReadableHere."""
        if copies.kept_where_it_lies(name):
            raise NotReadableHere(f"a recorded release's rows are {copies.where_it_lies(name)}: this command "
                                  "needs them on this machine")
        if copies.is_file_copy(name):
            path = copies.resolve(self.path, name) if self.path is not None else None
            if path is None:
                where = copies.folder(self.path) if self.path is not None else "the log's folder"
                raise TamperError(f"the stored rows {name!r} are missing from {where}")
            return parquet.as_sql(path)
        return f"{ALIAS}.{DATA_SCHEMA}.{ident(name)}"

    def data_file(self, name: str) -> Path | None:
        """The Parquet file holding a release's stored rows, when the log keeps them as one (audit.log.copies)."""
        return copies.resolve(self.path, name) if copies.is_file_copy(name) and self.path is not None else None

    def _named_copies(self) -> set[str]:
        return {t for (t,) in self.con.execute(f"SELECT data_table FROM {ALIAS}.releases").fetchall()}

    def keeps_any_where_it_lies(self) -> bool:
        """Whether any release's rows are kept where they lie, at a URI (audit.log.copies), not in or beside the log.
        A log whose releases table is missing or reshaped keeps none that can be read: verify names that itself."""
        try:
            return any(copies.kept_where_it_lies(t) for t in self._named_copies())
        except duckdb.Error:
            return False

    def stored_rows_problem(self, release: Release, digest_them: bool = True) -> str | None:
        """Why the release's stored rows are not the ones recorded (None when they are): the table is gone,
        or (`digest_them`) its digest (columns, types, every cell, row order) differs from the release entry's."""
        from audit.log.digest import table_digest

        name = release.data_table
        if copies.kept_where_it_lies(name):
            raise NotReadableHere(f"release {release.release_id} (seq {release.seq}): its rows are "
                                  f"{copies.where_it_lies(name)}, "
                                  "so this machine cannot say whether they are the ones recorded")
        present = self.data_file(name) is not None if copies.is_file_copy(name) else name in self._table_names(DATA_SCHEMA)
        if not present:
            return f"release {release.release_id} (seq {release.seq}): its stored rows (table {name!r}) are missing"
        if not digest_them:
            return None
        digest = table_digest(self.con, self.data_table(release.data_table))
        if digest != release.data_digest:
            return (f"release {release.release_id} (seq {release.seq}): its stored rows differ from those recorded "
                    f"(digest {digest}, recorded {release.data_digest})")
        return None

    def require_recorded_entry(self, record: Entry) -> None:
        """Refuse to go on (TamperError) unless `record` is still the entry recorded at its position."""
        table = {Release: "releases", Publication: "publications"}[type(record)]
        found = [e for e in self.entry_at(record.dataset, record.seq) if e[TABLE_KEY] == table]
        if len(found) != 1 or entry_hash(found[0]) != record.hash:
            raise TamperError(f"{record.dataset}: the {table} entry at seq {record.seq} does not match its hash (it was "
                              f"changed after it was recorded); nothing was written. Run `audit verify` to see what "
                              f"else was altered")

    def require_stored_rows(self, release: Release, why: str, digest_them: bool = True) -> None:
        """Refuse to go on (TamperError, exit 1) when the release's stored rows are not the ones recorded (without
        `digest_them`, when they are missing)."""
        problem = self.stored_rows_problem(release, digest_them)
        if problem:
            raise TamperError(f"{problem}; {why}. Run `audit verify` to see what else was altered")


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_dev, status.st_ino


def json_or_none(value: Any) -> str | None:
    return None if value is None else as_json(value)
