"""Tool errors: problems that stop a command before it can judge the data.

Bad *data* is never an exception: it becomes findings in a report. These
exceptions are for input the tool cannot read (exit 2) and for misuse.
"""

from __future__ import annotations

from dataclasses import dataclass


class AuditError(Exception):
    """Base class: the CLI prints the message on one line and exits `exit_code`."""

    exit_code = 2


@dataclass
class InputError(AuditError):
    """A file the tool cannot read as the dataset says it should be.

    `row` counts as a person does in the file: the header is row 1.
    """

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class ConfigError(AuditError):
    """A descriptor, suite or waiver file that is missing or malformed."""


class OutputError(AuditError):
    """An output path that would write over the office's records, through a link, or over files the tool did
    not write (audit.outputs)."""


class NotReadableHere(AuditError):
    """What the command needs lies where this machine cannot read it: a release the log keeps where it lies, at a
    URI only the Spark cluster reads (audit.log.copies). The tool could not do its job here (exit 2)."""


class StateError(AuditError):
    """The log does not hold what the command needs (e.g. nothing to publish)."""


class TamperError(AuditError):
    """The log or a package is not what the tool recorded: a command refuses to build on it.

    Exit 1 (like `audit verify` finding the same): the finding is about the records, not a tool failure."""

    exit_code = 1
