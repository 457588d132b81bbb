"""Progress on a terminal only: a bar for long DuckDB queries (loading a large file), and for every other step of a
command (typing, checks, the diff, recording, publishing) its name and the time it has taken, while it runs.

Quiet when stderr is not a terminal (piped, redirected, under CI) or when CI or
AUDIT_NO_PROGRESS is set, so logs and machine-readable output stay clean.
DuckDB reports a running query's progress (`query_progress()`); a thread polls it.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

import duckdb


def wanted() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI") and not os.environ.get("AUDIT_NO_PROGRESS")


# Whether a bar or a step is on the terminal now. Rich shows one live display at a time (a second raises), so a step
# or a reading bar inside another step leaves the outer one shown and shows nothing itself.
_showing = threading.Event()


@contextmanager
def _one_at_a_time() -> Iterator[bool]:
    """Whether the block may show its own display (no other is shown); while it does, no other may."""
    if _showing.is_set() or threading.current_thread() is not threading.main_thread():
        yield False
        return
    _showing.set()
    try:
        yield True
    finally:
        _showing.clear()


@contextmanager
def query_progress(con: duckdb.DuckDBPyConnection, description: str) -> Iterator[None]:
    """Show a bar for the query run on `con` inside the block (if `wanted`, and no other step is shown)."""
    with _one_at_a_time() as free:
        if not (free and wanted()):
            yield
            return
        with _bar(con, description):
            yield


@contextmanager
def _bar(con: duckdb.DuckDBPyConnection, description: str) -> Iterator[None]:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false; SET progress_bar_time = 0")
    stop = threading.Event()
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=100)

        def poll() -> None:
            while not stop.wait(0.2):
                done = con.query_progress()
                if done >= 0:
                    bar.update(task, completed=done)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        try:
            yield
        finally:
            stop.set()
            poller.join()
            con.execute("SET enable_progress_bar = false")


@contextmanager
def step(description: str) -> Iterator[None]:
    """While the block runs, `description` and its elapsed time on stderr (if `wanted`), gone when it ends: each
    step of a long command says what it is doing, not only the reading. Inside another step, the outer one stays
    shown."""
    with _one_at_a_time() as free:
        if not (free and wanted()):
            yield
            return
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with Progress(*columns, console=Console(stderr=True), transient=True) as shown:
            shown.add_task(description, total=None)
            yield
