"""Where a release's stored rows live: a table in the log file, or (a release that arrived as Parquet) a
Parquet file in a folder beside it, so that a data lake's releases do not grow the log file by their size; or,
for a release ingested where it lies (by Spark, from a URI only the cluster reads), that URI itself.

A release entry's `data_table` names its copy: a table in the log's `release_data` schema, or a file name
ending in `.parquet` in `<log file>.data/`. Either way the entry's `data_digest` is of the rows as read
back (audit.log.digest), so a file altered, swapped or deleted is found exactly as a table would be.

A release kept where it lies has a URI for its `data_table`, and for its `data_digest` the digest of its files as
the cluster took them (the release's sha256: audit.ingest.in_place). This machine holds none of its rows, so the
office must keep the files there unchanged (an object store's versioning or retention lock); whatever reads them
later (the next release's diff, on Spark) reads them where they lie and must get that digest again, or refuses.

A file is not part of the log's transaction, so it is written in two steps: as `<name>.pending` before the
release entry commits, renamed to `<name>` after. Interrupted between the two, the pending file is the copy
(its digest says whether it is whole); interrupted before the commit, no entry names it, and the next
command that opens the log for writing removes it. Until then it is ignored: it is the remains of an
interrupted ingest, not data added behind the tool's back.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from audit.files import is_uri

SUFFIX = ".parquet"
PENDING = ".pending"


def folder(log_path: Path) -> Path:
    return log_path.with_name(log_path.name + ".data")


def is_file_copy(data_table: str) -> bool:
    return data_table.endswith(SUFFIX) and not kept_where_it_lies(data_table)


def kept_where_it_lies(data_table: str) -> bool:
    """Whether a release's rows are kept where it lies, at the URI `data_table`, and not by the log."""
    return is_uri(data_table)


def secret_in(uri: str) -> tuple[str, str] | None:
    """What in a release's `uri` must be neither recorded nor repeated, and the URI without it: the log records it
    as where the release is kept, in an entry a later package's log extract publishes, and errors and reports
    repeat it. A password, or a query (where
    a token or a signature would be); Hadoop's file systems take neither from a path, but a URI pasted from a
    console may carry them."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(uri)
    if parts.password is None and not parts.query:
        return None
    user, _, host = parts.netloc.rpartition("@")
    user = "***@" if parts.password is not None else f"{user}@" if user else ""  # a key's id as well as its secret
    shown = urlunsplit((parts.scheme, user + host, parts.path, "***" if parts.query else "", ""))
    return ("password" if parts.password is not None else "query (?...)"), shown


def where_it_lies(data_table: str) -> str:
    """Where rows kept at the URI `data_table` are, as a command that needs them says it ("its rows are ...")."""
    return f"kept where they lie, at {data_table}, which only the Spark cluster reads"


def file_name(release_id: str) -> str:
    """A file name for a release's copy: readable, and unique by a digest of the id (ids may hold any text)."""
    readable = re.sub(r"[^A-Za-z0-9._@-]+", "_", release_id)[:80]
    return f"{readable}-{hashlib.sha256(release_id.encode()).hexdigest()[:16]}{SUFFIX}"


def pending(path: Path) -> Path:
    return path.with_name(path.name + PENDING)


def pending_copy(log_path: Path, release_id: str) -> Path:
    """Where a release's copy is written before its entry commits."""
    return pending(folder(log_path) / file_name(release_id))


def discard(pending_copy: Path) -> None:
    """Remove a pending copy no entry names (an ingest that failed before its commit), and the copies' folder if
    that leaves it empty."""
    pending_copy.unlink(missing_ok=True)
    if pending_copy.parent.is_dir() and not any(pending_copy.parent.iterdir()):
        pending_copy.parent.rmdir()


def resolve(log_path: Path, data_table: str) -> Path | None:
    """The file holding a copy: the file itself, else its pending file (renamed when the next writer opens the
    log), else None (deleted)."""
    path = folder(log_path) / data_table
    for candidate in (path, pending(path)):
        if candidate.is_file():
            return candidate
    return None


def present(log_path: Path, named: set[str]) -> list[str]:
    """The copies in the folder: every finished file, and a pending file only where an entry (`named`) names it."""
    if not folder(log_path).is_dir():
        return []
    found = []
    for path in folder(log_path).iterdir():
        if path.name.endswith(SUFFIX):
            found.append(path.name)
        elif path.name.endswith(SUFFIX + PENDING) and path.name[:-len(PENDING)] in named:
            found.append(path.name[:-len(PENDING)])
    return sorted(set(found))


def finish(log_path: Path, named: set[str]) -> None:
    """Put an interrupted ingest's files right (call only while holding the log for writing): a pending file
    an entry names becomes its copy; one that none names is removed."""
    if not folder(log_path).is_dir():
        return
    for path in folder(log_path).glob(f"*{SUFFIX}{PENDING}"):
        final = path.with_name(path.name[:-len(PENDING)])
        if final.name in named and not final.exists():
            os.replace(path, final)
        elif final.name not in named:
            path.unlink()


def strangers(log_path: Path) -> list[str]:
    """What lies in the copies' folder that the tool never puts there: anything but a copy or a pending copy (a
    stray CSV, a folder, a link). A copy no release names is reported with the stored tables; a pending one is the
    remains of an interrupted ingest."""
    if not folder(log_path).is_dir():
        return []
    found = []
    for path in sorted(folder(log_path).iterdir()):
        name = path.name
        ours = name.endswith(SUFFIX) or name.endswith(SUFFIX + PENDING)
        if path.is_symlink() or not path.is_file() or not ours:
            found.append(name)
    return found
