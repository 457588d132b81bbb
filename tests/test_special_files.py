"""A release given as something that is no file is refused by what it is, with exit 2 and nothing recorded: never
"no such file" for a folder, never a hang on a pipe or a device, never an internal error."""

from __future__ import annotations

import os

import duckdb
import pytest

from tests.conftest import EXAMPLE, EXAMPLE_CSV
from tests.witnesses import audit


@pytest.mark.parametrize("kind, said", [
    ("fifo", "is not a regular file (a pipe, a device or a socket)"),
    ("device", "is not a regular file (a pipe, a device or a socket)"),
    ("loop", "cannot be read (Too many levels of symbolic links)"),
    ("dangling", "a symbolic link to nothing"),
    ("missing", "no such file"),
    ("folder", "is a folder, not a file"),
    ("mixed parquet", "cannot be read as one Parquet release"),
])
def test_what_is_no_release_file_is_named_for_what_it_is(workspace, tmp_path, kind, said):
    path = tmp_path / "release"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path = "/dev/zero"
    elif kind == "loop":
        (tmp_path / "a").symlink_to(tmp_path / "b")
        (tmp_path / "b").symlink_to(tmp_path / "a")
        path = tmp_path / "a"
    elif kind == "dangling":
        path.symlink_to(tmp_path / "gone.csv")
    elif kind == "folder":
        path.mkdir()
        (path / "notes.txt").write_text("not a table\n")
    elif kind == "mixed parquet":
        path.mkdir()
        with duckdb.connect() as con:  # two files of one release, the second without a column of the first
            con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{EXAMPLE_CSV}', thousands = ',')")
            con.execute(f"COPY t TO '{path / 'a.parquet'}' (FORMAT parquet)")
            con.execute(f"COPY (SELECT * EXCLUDE (\"Violent Crime\") FROM t) TO '{path / 'b.parquet'}' (FORMAT parquet)")

    code, out = audit("ingest", EXAMPLE, path, "--workspace", workspace.root)

    assert code == 2 and said in out and "internal error" not in out, out
    assert len(out.strip().splitlines()) == 1
    assert not (workspace.root / "audit.duckdb").exists()
