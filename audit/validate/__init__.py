"""Validate: run a dataset's GX suite on a loaded release, on the command's engine (audit.engine), and return
findings.

The suite run is the dataset's suite file plus what the dataset definition
implies: one expectation per published claim (claims.yaml) and one per field
whose descriptor maps codes to categories.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import duckdb

from audit.dataset import Dataset
from audit.engine import DUCKDB, Engine
from audit.findings import ClaimResult, Finding, Outcome

if TYPE_CHECKING:
    from audit.validate.suite import SuiteFile


@dataclass
class Validation:
    findings: list[Finding]
    claims: list[ClaimResult] = field(default_factory=list)
    expectations: list[Outcome] = field(default_factory=list)  # one per expectation run, passed or not
    gx_result: Any = None  # GX's own ExpectationSuiteValidationResult, for its Data Docs
    suite_sha256: str | None = None  # of the suite file's bytes, as read for this validation (validate_release)

    @property
    def not_run(self) -> dict[str, list[str]]:
        """Field -> the expectations that read it and could not run, because the release has no column for it."""
        from audit.validate.suite import NOT_RUN

        out: dict[str, list[str]] = {}
        for column, what in (self.gx_result.meta or {}).get(NOT_RUN, []) if self.gx_result is not None else []:
            out.setdefault(column, []).append(what)
        return out

    @property
    def not_run_in_place(self) -> list[Finding]:
        """A `not-run` finding for each check that could not run on a release read where it lies (run_suite)."""
        from audit.findings import ERROR, Code
        from audit.validate.suite import NOT_RUN_IN_PLACE

        unrun = (self.gx_result.meta or {}).get(NOT_RUN_IN_PLACE, []) if self.gx_result is not None else []
        return [Finding(Code.NOT_RUN, ERROR, {}, [], None, None, Code.NOT_RUN.say(check=check, why=why))
                for check, why in unrun]

    def data_docs(self, report: Any = None) -> str:
        """This validation as a GX Data Docs page (GX's own renderer; the page loads GX's styles from CDNs, so
        it stays in the workspace, never in a package). Our expectations put themselves in words
        (RowCheckExpectation._words); each expectation with waived findings carries a note saying so, with the
        office's reasons (from `report`), so that a waived finding is not read as an open one."""
        from great_expectations.render.renderer import ValidationResultsPageRenderer

        from audit.validate.expectations.base import note_texts

        for outcome, result in zip(report.expectations if report is not None else [], self.gx_result.results):
            found = report.findings_of(outcome)
            waived = [f for f in found if f.waived]
            if waived:
                reasons = "; ".join(dict.fromkeys(f.waiver_reason or "" for f in waived))
                note = f"Waived by the office: {len(waived)} of {len(found)} finding(s). Reason: {reasons}"
                meta = result.expectation_config.meta or {}  # the office's own notes are kept, the waiver added
                result.expectation_config.meta = {**meta, "notes": {"format": "markdown",
                                                                    "content": [*note_texts(meta), note]}}
        if report is not None:  # the page's verdict is the report's: a finding the office waived blocks nothing
            self.gx_result.success = report.success
        return offline_page(_page_view().render(ValidationResultsPageRenderer().render(self.gx_result)))


# GX's Data Docs load Bootstrap, jQuery and Vega from CDNs and GX's logo from S3: a page opened offline (or kept for
# years) lost every style, and each opening told those hosts. They are replaced by these few rules, enough to read
# the page, and the scripts (sorting, charts) and the logo dropped: the page fetches nothing.
OFFLINE_STYLE = """<style>
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f; margin: 0; }
.container, .container-fluid { max-width: 1100px; margin: 0 auto; padding: 0 1rem; }
nav, .navbar, .sidebar, #sidebar, .d-none { display: none !important; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; display: block; overflow-x: auto; }
th, td { border-bottom: 1px solid #e3e3e3; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f4f5f7; } .card { border: 1px solid #ddd; border-radius: 6px; padding: .6rem 1rem; margin: 1rem 0; }
.badge { display: inline-block; padding: .1rem .5rem; border-radius: 4px; background: #eee; }
.badge-success, .text-success { color: #1e7b34; } .badge-danger, .text-danger { color: #b3261e; }
code, pre { font-family: ui-monospace, Menlo, Consolas, monospace; white-space: pre-wrap; overflow-wrap: anywhere; }
</style>"""


@functools.cache
def _page_view() -> Any:
    """GX's page view, one per process. Each view makes a Jinja environment of its own, which compiles every
    template again (50-70 ms a page); one view compiles them once for every page a process renders."""
    from great_expectations.render.view import DefaultJinjaPageView

    return DefaultJinjaPageView()


def offline_page(html: str) -> str:
    """`html` (a GX Data Docs page) with its CDN stylesheets, scripts and remote images replaced by OFFLINE_STYLE."""
    import re

    html = re.sub(r"<link\b[^>]*\bhref=[\"']https?://[^>]*>", "", html, flags=re.I)
    html = re.sub(r"<script\b[^>]*\bsrc=[\"']https?://[^>]*>\s*</script>", "", html, flags=re.I)
    html = re.sub(r"<img\b[^>]*\bsrc=[\"']https?://[^>]*>", "", html, flags=re.I)  # GX's logo, fetched from S3
    return html.replace("</head>", OFFLINE_STYLE + "\n</head>", 1)


def suite_expectations(dataset: Dataset, suite_file: SuiteFile,
                       absent: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Every expectation run on a release of `dataset`: its suite file (as read, `suite_file`), then what its
    definition implies (and the suite does not already say): the primary key unique and present, each field's Table
    Schema constraints, a category for each coded field, spreadsheet-safe text, and the published claims."""
    from audit.claims import load_claims
    from audit.validate.suite import with_origin

    suite, descriptor, claims = (_shown(p) for p in (dataset.suite_path, dataset.descriptor_path, dataset.claims_path))
    expectations = [with_origin(e, f"{suite}, expectation {number}")
                    for number, e in enumerate(suite_file.data["expectations"], 1)]
    for implied in schema_expectations(dataset):
        if not any(_same_check(e, implied) for e in expectations):
            expectations.append(with_origin(implied, f"{descriptor}, its schema"))
    expectations += [with_origin(e, f"{claims}, claim {number}") for number, e in
                     enumerate(load_claims(dataset.claims_path, [f.name for f in dataset.fields] + sorted(absent)), 1)]
    return [as_ours(e) for e in expectations]


def _shown(path) -> str:
    """An office file's path as messages name it: from the workspace (expectations/x.json,
    datapackages/x/claims.yaml), never the machine's absolute path."""
    parts = path.parts
    top = max((i for i, p in enumerate(parts) if p in ("expectations", "datapackages")), default=len(parts) - 1)
    return "/".join(parts[top:])


# GX's own expectations that run as ours (keyed, counted findings, one SQL query each, at DuckDB's speed):
# type -> (ours, the keyword arguments it may carry, how GX's name their columns -> ours). Only when the suite
# entry sets nothing else (`mostly`, a row condition, a result format): then GX's runs as written.
AS_OURS = {
    "expect_column_values_to_be_unique": ("expect_primary_key_to_be_unique", {"column": "columns"}),
    "expect_compound_columns_to_be_unique": ("expect_primary_key_to_be_unique", {"column_list": "columns"}),
    "expect_column_values_to_not_be_null": ("expect_column_values_to_be_present", {"column": "column"}),
    "expect_column_values_to_be_between": ("expect_column_values_to_be_in_range", {
        "column": "column", "min_value": "min_value", "max_value": "max_value", "strict_min": "strict_min",
        "strict_max": "strict_max"}),
    "expect_column_values_to_be_in_set": ("expect_column_values_to_be_in_value_set",
                                          {"column": "column", "value_set": "value_set"}),
    "expect_column_values_to_match_regex": ("expect_column_values_to_match_pattern", {"column": "column", "regex": "regex"}),
}


def as_ours(expectation: dict[str, Any]) -> dict[str, Any]:
    """A suite entry of one of GX's row expectations above, run as ours: one finding per failing row (or repeated
    value) with its key, by one query, where GX gives unkeyed or capped results, runs slower, or (a regex on
    DuckDB) cannot run at all. Severity and meta are kept."""
    kind, kwargs = expectation.get("type"), expectation.get("kwargs") or {}
    if kind not in AS_OURS:
        return expectation
    ours, names = AS_OURS[kind]
    column = next(iter(names))
    if column not in kwargs or not set(kwargs) <= set(names):  # anything else set: GX's, as written
        return expectation
    converted = {names[k]: v for k, v in kwargs.items()}
    if names[column] == "columns":
        value = kwargs[column]
        converted["columns"] = [value] if isinstance(value, str) else list(value or [])
    return {**{k: v for k, v in expectation.items() if k not in ("type", "kwargs")}, "type": ours,
            "kwargs": converted}


UNIQUENESS = {"expect_column_values_to_be_unique": "column", "expect_compound_columns_to_be_unique": "column_list",
              "expect_primary_key_to_be_unique": "columns"}


def _same_check(existing: dict[str, Any], implied: dict[str, Any]) -> bool:
    """Whether the suite's `existing` expectation already checks what `implied` would (uniqueness of the same
    columns counts as the same, whichever expectation type says it)."""
    if existing.get("type") == implied["type"] and existing.get("kwargs") == implied["kwargs"]:
        return True
    kinds = (existing.get("type"), implied["type"])
    if all(k in UNIQUENESS for k in kinds):
        def columns(e: dict[str, Any]) -> set[str]:
            value = (e.get("kwargs") or {}).get(UNIQUENESS[e["type"]])
            return {value} if isinstance(value, str) else set(value or [])
        return columns(existing) == columns(implied)
    return False


def schema_expectations(dataset: Dataset) -> list[dict[str, Any]]:
    """What the descriptor's Table Schema says about valid rows, as GX expectations."""
    out: list[dict[str, Any]] = []
    key = dataset.primary_key
    blank_allowed = dataset.blank_key_parts
    for name in key:
        if name not in blank_allowed:
            out.append({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": name}})
    if key and dataset.key_is_unique:
        out.append({"type": "expect_primary_key_to_be_unique",
                    "kwargs": {"columns": key, **({"blank_allowed": blank_allowed} if blank_allowed else {})}})
        text = [k for k in key if dataset.field(k).type == "string"]
        if text:
            out.append({"type": "expect_key_values_not_to_differ_only_in_form", "kwargs": {"columns": key, "text": text}})
    for f in dataset.fields:
        constraints = f.descriptor.get("constraints") or {}
        if constraints.get("required") and f.name not in key:
            out.append({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": f.name}})
        if constraints.get("unique") and [f.name] != key:
            out.append({"type": "expect_column_values_to_be_unique", "kwargs": {"column": f.name}})
        bounds = {k: constraints[c] for k, c in (("min_value", "minimum"), ("max_value", "maximum")) if c in constraints}
        if bounds:
            out.append({"type": "expect_column_values_to_be_between", "kwargs": {"column": f.name, **bounds}})
        if constraints.get("enum"):
            out.append({"type": "expect_column_values_to_be_in_set",
                        "kwargs": {"column": f.name, "value_set": constraints["enum"]}})
        if f.categories:
            out.append({"type": "expect_column_values_to_have_a_category",
                        "kwargs": {"column": f.name, "mapping": f.categories}})
        if f.type == "string":
            out.append({"type": "expect_column_values_to_be_safe_in_spreadsheets", "kwargs": {"column": f.name}})
    return out


_one_command = False  # set by the console entry point: this process runs one command, on one engine


def this_process_runs_one_command() -> None:
    """Say that this process runs one command and ends (`audit` from a shell), so the validation it imports may
    leave out what another engine would need (`import_in_background`)."""
    global _one_command
    _one_command = True


def import_in_background(engine: Engine = DUCKDB) -> None:
    """Start importing Great Expectations and the suite's expectations in a thread (and starting `engine`), for a
    command that will validate on `engine` once it has read its release. The import takes 3-4 s on a 2-core
    machine, as long as reading and typing a million-row file, and nearly all of it is Python holding the GIL while
    DuckDB's reading does not hold it: the two overlap. The main thread's own import later waits for this one
    (Python's per-module import lock), or repeats it and raises if it failed. Why by hand: no library defers an
    import into a thread."""
    import threading

    threading.Thread(target=_import_validation, args=(left_out(engine),), name="import-great-expectations",
                     daemon=True).start()
    # The engine starts meanwhile too, in a process of its own: Spark's JVM takes 6-7 s, while DuckDB types and
    # stages the release. Not in a process that runs other commands (tests): a command refused before its first
    # query would leave a session started with its settings behind for the next.
    if _one_command:
        threading.Thread(target=_start_quietly, args=(engine,), name="start-engine", daemon=True).start()


def _start_quietly(engine: Engine) -> None:
    try:
        engine.start()
    except Exception:  # noqa: BLE001 -- the main thread's own start reports it
        pass


def left_out(engine: Engine) -> tuple[str, ...]:
    """The packages the validation's import leaves out for a command on `engine`. Great Expectations imports pyspark
    (and through it scipy) whenever it is installed: 0.45 s of the import on this machine. A command that runs on
    DuckDB in a process of its own never uses it, so GX is imported as if pyspark were not installed, a setup GX
    supports. Not in a process that may run other commands (tests, a notebook): GX keeps what it found, and a later
    command on Spark would find no pyspark."""
    return ("pyspark",) if _one_command and engine.name != "spark" else ()


# Imported by Great Expectations' own import for expectations this tool never runs (GX's KL-divergence check draws
# with altair and computes with scipy's statistics): 0.5-1.0 s of every command that validates, on this machine.
# They are imported when first used instead, so GX runs that expectation as before should a suite name it.
DEFERRED = ("scipy.stats", "altair")


class _Deferring:
    """An import finder that hands out `DEFERRED` as modules that run their code on first use (importlib.util's
    LazyLoader, the standard library's way to defer an import; nothing beyond it is written here). It finds a module
    as the other finders would, and only wraps that finder's loader. Two imports of GX may overlap in one process
    (`audit init` then `audit check` in a notebook: the first's import need not have ended), each with its finder
    in place: a finder asks none of its kind, or each would ask the other until Python's stack ran out."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in DEFERRED:  # first: every module GX imports (some 2,000) is asked about here
            return None
        import importlib.util
        import sys

        for finder in list(sys.meta_path):
            if isinstance(finder, _Deferring):
                continue
            spec = getattr(finder, "find_spec", lambda *a: None)(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = importlib.util.LazyLoader(spec.loader)
                return spec
        return None


def _import_validation(without: tuple[str, ...]) -> None:
    import sys

    # A None in sys.modules makes `import pyspark` raise ImportError (the documented way to block an import).
    blocked = [name for name in without if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    # Only while GX is imported. The list is replaced, never changed in place: an import in the main thread meanwhile
    # goes through the list it began with, where an item removed under it would make it skip the next finder.
    deferring = _Deferring()
    sys.meta_path = [deferring, *sys.meta_path]
    try:
        import audit.validate.suite  # noqa: F401
        import audit.validate.translate  # noqa: F401
    except Exception:  # the main thread's own import reports it
        pass
    finally:
        sys.meta_path = [finder for finder in sys.meta_path if finder is not deferring]
        for name in blocked:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]


def run_expectations(
    con: duckdb.DuckDBPyConnection, table: str, dataset: Dataset, expectations: list[dict[str, Any]],
    engine: Engine = DUCKDB, absent: frozenset[str] = frozenset(),
) -> Validation:
    from audit.validate.ahead import passes_ahead

    # The shared passes first: they need no GX, and run while the background import of GX ends (import_in_background).
    with engine.holding(con, table), passes_ahead(engine, con, table, expectations, absent) as ready:
        from audit.validate.suite import run_suite
        from audit.validate.translate import findings_from_results

        # The suite is named by its path in the workspace (expectations/NAME.json), never the machine's absolute path.
        name = dataset.suite_path.relative_to(dataset.suite_path.parent.parent).as_posix()
        result = run_suite(con, table, name, expectations, dataset.primary_key, engine, absent, ready)
        return Validation(*findings_from_results(con, result.results, dataset.primary_key, dataset.label),
                          gx_result=result)


def validate_release(
    con: duckdb.DuckDBPyConnection, table: str, dataset: Dataset, extra: list[dict[str, Any]] | None = None,
    engine: Engine = DUCKDB, absent: frozenset[str] = frozenset(),
) -> Validation:
    """Every finding of the dataset's suite (and `extra` expectations, such as the revision checks a diff
    implies) on `table`, one per failing row, in suite order, and its claims; on `engine` (audit.engine). `dataset`
    is the release's as read (audit.ingest.columns); an expectation reading a field of `absent`, which the release
    has no column for, is not run (`Validation.not_run`)."""
    from audit.validate.suite import read_suite

    suite_file = read_suite(dataset.suite_path)  # read once: what runs is what its recorded digest names
    validation = run_expectations(con, table, dataset, suite_expectations(dataset, suite_file, absent) +
                                  list(extra or []), engine, absent)
    validation.suite_sha256 = suite_file.sha256
    return validation
