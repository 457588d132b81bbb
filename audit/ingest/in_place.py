"""A release read where it lies: Parquet at a URI the Spark cluster's executors can read (file:, s3a:, hdfs:, ...),
which the machine running the command may not be able to open at all (an office's laptop beside a cluster's
object store, or a folder only the cluster's account can read).

The driver opens nothing of the release. The files are listed by a job on the executors (Spark lists on the driver
below `spark.sql.sources.parallelPartitionDiscovery.threshold` paths: it is set to 0), and their footers are read
there (`mergeSchema`, which refuses files whose columns clash in type; unlike DuckDB, which refuses a folder whose
files have different columns, it reads a file without a column another file has as missing values in it; and it
skips files whose names start with _ or ., as data lakes mark their own, where DuckDB reads them). The
cells are typed there, and so are the files' digests (Spark's binaryFile source with sha2: no bytes come back, only
a digest per file). What comes back to the driver is the columns' names and types, counts, the first cell that
cannot be typed, and later the findings and the diff's differing rows (audit.engine.scan). The working database
holds an empty table of the release's columns, so that what reads their types (the diff, the suite's column checks)
reads them as for any release.

Typing follows audit.ingest.cast and audit.ingest.parquet for what a data lake's Parquet holds: typed columns are
cast (a fraction in an integer field, a time of day in a date field, is refused); text is trimmed, rid of
invisible characters and composed (NFC), and missing markers are read as missing, each fix counted; a number in
text may carry its field's thousands separators. A text cell that needs any other clean-up (a footnote mark, a
currency sign, a date in a declared format) is refused, naming file, row and column: give such a release as a
file (DuckDB then reads it with the whole clean-up) rather than read it in place differently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

import duckdb

from audit.dataset import Dataset, Field
from audit.errors import ConfigError, InputError
from audit.ingest.cast import (
    FALSE_VALUES,
    INTEGER_PATTERN,
    INVISIBLE,
    ISO_DATETIME,
    NUMBER_PATTERN,
    TRUE_VALUES,
    _normalisation_sql,
    grouped_pattern,
    missing_markers,
)
from audit.ingest.columns import as_read, match_columns
from audit.ingest.normalise import Normalisation
from audit.ingest.parquet import SUFFIXES
from audit.ingest.read import EXCEL_SUFFIXES, OLD_EXCEL_SUFFIXES
from audit.log.entries import Release
from audit.sql import ident

# Hadoop's glob, for the files a folder holds (hidden files and Spark's _SUCCESS markers are skipped by Spark).
PARQUET_FILES = "*.{parquet,pq,PARQUET,PQ}"
FILE, ROW = "__audit_file", "__audit_file_row"
# The types a field is cast to on Spark (DuckDB's are audit.dataset.DUCKDB_TYPES). A time of day has no Spark type.
SPARK_TYPES = {"integer": "BIGINT", "number": "DOUBLE", "string": "STRING", "boolean": "BOOLEAN", "date": "DATE",
               "datetime": "TIMESTAMP_NTZ", "year": "INT"}
# A Spark column's type, named as DuckDB names it (for the columns' matching and an added column's field).
DUCKDB_NAMES = {"byte": "TINYINT", "short": "SMALLINT", "integer": "INTEGER", "long": "BIGINT", "float": "FLOAT",
                "double": "DOUBLE", "string": "VARCHAR", "boolean": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP",
                "timestamp_ntz": "TIMESTAMP", "binary": "BLOB"}
ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# Files a release also arrives as, which this machine reads (audit.ingest.read) and the cluster does not: named by a
# URI, each is refused as not Parquet. Any other name (a folder such as crime.2024-06 among them) is read as Parquet.
TABLE_SUFFIXES = {".csv", ".tsv", ".tab", ".txt", ".psv", ".dat", ".json", *EXCEL_SUFFIXES, *OLD_EXCEL_SUFFIXES}


def load_in_place(con: duckdb.DuckDBPyConnection, dataset: Dataset, uri: str, engine: Any, table: str):
    """The Parquet release at `uri`, typed on the Spark `engine`'s executors and kept there (as
    `engine.in_place_frames[table]`), with `table` in `con` an empty table of its columns. Raises InputError for a
    release that cannot be read or typed (naming file, row, column), ConfigError for a field it cannot type."""
    from audit.ingest import LoadedRelease

    spark = engine.session()
    if PurePosixPath(urlparse(uri).path).suffix.lower() in TABLE_SUFFIXES:
        raise InputError("read where it lies (a URI), a release is Parquet: a file ending .parquet or a folder of "
                         "them; copy any other file to this machine and give its path", file=uri)
    # The driver lists nothing: the listing of any number of paths is a job on the executors.
    spark.conf.set("spark.sql.sources.parallelPartitionDiscovery.threshold", "0")
    try:
        files = (spark.read.option("recursiveFileLookup", "true").option("pathGlobFilter", PARQUET_FILES)
                 .option("mergeSchema", "true").parquet(uri))
        files = files.select("*", files["_metadata.file_path"].alias(FILE), files["_metadata.row_index"].alias(ROW))
    except Exception as exc:  # Spark's AnalysisException (no such path, no Parquet, clashing shapes), py4j's errors
        raise InputError(f"the cluster cannot read it as one Parquet release: {_first_line(exc)}", file=uri) from exc
    types = {f.name: _duckdb_name(f.dataType) for f in files.schema.fields if f.name not in (FILE, ROW)}
    match = match_columns(list(types), dataset, uri, header_row=None)  # columns have no row
    read_as, mapping = as_read(con, None, dataset, match, types)
    typed = [_typed(field, mapping[field.name], types[mapping[field.name]], read_as, f"__audit_plain_{i}")
             for i, field in enumerate(read_as.fields)]
    steps = [step for t in typed for step in t.steps]
    if steps:
        files = files.select("*", *steps)

    counted = _count(files, typed)
    if counted.bad:
        _refuse_first_bad(files, typed, uri)
    digests = _digests(spark, uri)
    missing = sorted(path for path in counted.offsets if _parts(path) not in digests)
    if missing:
        raise InputError(f"the cluster read rows from {missing[0]} but could not digest it (it changed or went while "
                         "read): read it again", file=uri)
    from pyspark.sql import functions as F

    from audit.engine.scan import POSITION

    # Not cached here: the suite's batch is persisted by GX, and the diff caches what it reads (audit.engine.scan).
    starts = spark.createDataFrame(list(counted.offsets.items()), f"{FILE} STRING, __audit_start BIGINT")
    frame = (files.join(F.broadcast(starts), FILE)
             .select(*[t.final(t.column in counted.composed).alias(t.field.name) for t in typed],
                     (F.col("__audit_start") + F.col(ROW)).alias(POSITION)))
    engine.in_place_frames[table] = frame
    columns = ", ".join(f"{ident(f.name)} {f.duckdb_type}" for f in read_as.fields)
    con.execute(f"CREATE OR REPLACE TABLE {ident(table)} ({columns})")
    name = PurePosixPath(unquote(urlparse(uri).path.rstrip("/"))).name or uri
    return LoadedRelease(source=Path(name), sha256=_release_sha256(uri, digests), row_count=counted.rows,
                         dataset=read_as, columns=match, table=table, normalisations=tuple(counted.fixes),
                         findings=tuple(match.findings), parquet=True)


@dataclass(frozen=True)
class KeptRows:
    """A release the log keeps where it lies, read there again (`read_kept`): neither set, its rows are the table
    asked for, typed as recorded and held to the recorded digest."""

    differ: str | None = None      # how its files differ from those recorded: they were altered
    unreadable: str | None = None  # why the cluster read none of them now: removed, or out of its reach


def read_kept(con: duckdb.DuckDBPyConnection, release: Release, engine: Any, table: str) -> KeptRows:
    """The rows of `release`, which the log keeps where it lies (audit.log.copies): read and typed there again on
    the Spark `engine` as the descriptor recorded with it says (as `table`, see `load_in_place`), and held to the
    digest recorded for its files. Files changed, added or removed since differ; files the cluster cannot read as
    the release at all (every one removed, or storage it cannot reach now) are unreadable, since this machine
    cannot tell which of the two it is."""
    recorded = Dataset(release.dataset, Path(f"(recorded with {release.release_id})"), Path(""), release.definition)
    try:
        again = load_in_place(con, recorded, release.data_table, engine, table)
    except (InputError, ConfigError) as exc:
        return KeptRows(unreadable=f"could not be read there now ({exc}): either they were removed or altered since, "
                                   "or the cluster cannot reach them")
    if again.sha256 != release.data_digest or again.row_count != release.row_count:
        return KeptRows(differ=f"differ from those recorded (digest of its files {again.sha256}, recorded "
                               f"{release.data_digest}; {again.row_count} rows, recorded {release.row_count})")
    return KeptRows()


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "desc", None) or exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:300]


def _duckdb_name(spark_type: Any) -> str:
    name = spark_type.typeName()
    if name == "decimal":
        return f"DECIMAL({spark_type.precision},{spark_type.scale})"
    return DUCKDB_NAMES.get(name, name.upper())


class _Typed:
    """One field typed on Spark: its value, the flag of a cell that cannot be typed, and its fixes' conditions; for
    text, the text before composing (NFC) and what is missing, since composing is a Python function on the
    executors, run only for a column with cells that are not ASCII."""

    def __init__(self, field: Field, column: str, value: Any, bad: Any, fixes: list[tuple[str, str, Any]],
                 text: Any = None, missing: Any = None, markers: tuple[str, ...] = (),
                 steps: tuple[Any, ...] = ()) -> None:
        self.field, self.column, self.value, self.bad, self.fixes = field, column, value, bad, fixes
        self.text, self.missing, self.markers = text, missing, markers
        self.steps = steps  # columns computed once per row, before anything reads them

    def final(self, compose: bool) -> Any:
        """The typed value, composed (NFC) when `compose`: a text column with cells that are not ASCII."""
        from pyspark.sql import functions as F

        return F.when(self.missing, None).otherwise(_nfc(self.text)) if compose and self.text is not None \
            else self.value


def _typed(field: Field, column: str, kind: str, dataset: Dataset, step: str) -> _Typed:
    """How `field` is read from `column` (of Spark type `kind`, named as DuckDB names it); `step` names the column
    that says whether a text cell is plain, computed once per row (each fix reads it)."""
    from pyspark.sql import functions as F

    if field.type not in SPARK_TYPES:
        raise ConfigError(f"field {field.name!r} is a {field.type}, which a release read where it lies cannot hold "
                          "(Spark has no such type): give the release as a file")
    raw = _raw(column)
    if kind != "VARCHAR":
        return _from_typed(field, column, raw, kind)
    fmt = field.descriptor.get("format", "default")
    if fmt not in ("default", "any") and "%" in fmt:
        raise ConfigError(f"field {field.name!r} declares the format {fmt!r}, which a release read where it lies is "
                          "not read in: give the release as a file")
    markers = missing_markers(field, dataset.missing_values)
    # A plain cell (ASCII, so with no invisible character; no space at either end; no marker) needs none of the
    # clean-up, and testing that is cheap where the clean-up's regular expressions are not: they took 21 s of a
    # 1M-row release's 35 when every cell went through them. Spark's CASE and AND skip what a plain cell does not
    # need.
    is_plain = raw.isNotNull() & _ascii(raw) & ~(raw.startswith(" ") | raw.endswith(" "))
    if markers:
        is_plain = is_plain & ~raw.isin(markers)
    plain = F.col(step)
    visible = F.when(plain, raw).otherwise(F.trim(F.regexp_replace(raw, INVISIBLE, "")))
    is_missing = raw.isNull() | (~plain & visible.isin(markers)) if markers else raw.isNull()
    described = _descriptions(field, column, markers)
    fixes = []
    named = [m for m in markers if m]
    if named:
        fixes.append(("missing-marker", ~plain & F.trim(raw).isin(named)))
    present = ~is_missing
    fixes.append(("padding", ~plain & present & (raw != F.trim(raw))))
    fixes.append(("invisible-characters", ~_ascii(raw) & raw.rlike(INVISIBLE)))
    if field.type == "string":  # composed (NFC) once the columns with cells not ASCII are known (_count)
        return _Typed(field, column, F.when(is_missing, None).otherwise(visible), F.lit(False),
                      [(k, described[k], c) for k, c in fixes], visible, is_missing, tuple(markers),
                      (is_plain.alias(step),))
    text = visible
    if field.type in ("integer", "number"):
        group = field.group_char
        grouped = visible.rlike(f"^(?:{grouped_pattern(field)})$")
        fixes.append(("thousands-separators", present & visible.contains(group)))
        text = F.when(grouped, F.replace(visible, F.lit(group), F.lit(""))).otherwise(visible)
        if field.type == "number" and field.decimal_char != ".":
            text = F.replace(text, F.lit(field.decimal_char), F.lit("."))
    if field.type in ("integer", "year"):
        value = F.when(text.rlike(f"^(?:{INTEGER_PATTERN})$"), text.try_cast(SPARK_TYPES[field.type]))
    elif field.type == "number":
        value = F.when(text.rlike(f"^(?:{NUMBER_PATTERN})$"), text.try_cast("DOUBLE"))
    elif field.type == "boolean":
        low = F.lower(text)
        trues = field.descriptor.get("trueValues", TRUE_VALUES)
        falses = field.descriptor.get("falseValues", FALSE_VALUES)
        value = F.when(low.isin(list(trues)), F.lit(True)).when(low.isin(list(falses)), F.lit(False))
    elif field.type == "date":
        value = F.when(text.rlike(ISO_DATE), text.try_cast("DATE"))
    else:  # datetime: an ISO date and time, nothing after it but a Z
        value = F.when(text.rlike(f"^(?:{ISO_DATETIME})$"), F.regexp_replace(text, "Z$", "").try_cast("TIMESTAMP_NTZ"))
    return _Typed(field, column, F.when(is_missing, None).otherwise(value), present & value.isNull(),
                  [(k, described[k], c) for k, c in fixes if k in described], markers=tuple(markers),
                  steps=(is_plain.alias(step),))


def _from_typed(field: Field, column: str, raw: Any, kind: str) -> _Typed:
    """A field from a typed Parquet column: cast, and refused where the cast loses what the cell says."""
    from pyspark.sql import functions as F

    if field.type == "string":
        if kind in ("DOUBLE", "FLOAT"):  # Java and DuckDB print fractions differently (4.0E-4, 0.0004)
            raise ConfigError(f"field {field.name!r} is text and column {column!r} holds {kind} numbers, which "
                              "Spark writes as text unlike DuckDB: give the release as a file")
        return _Typed(field, column, raw.cast("STRING"), F.lit(False), [])
    value = raw.try_cast(SPARK_TYPES[field.type])
    bad = raw.isNotNull() & value.isNull()
    if field.type in ("integer", "year") and (kind in ("DOUBLE", "FLOAT") or kind.startswith("DECIMAL")):
        bad = bad | (raw.isNotNull() & (raw != F.round(raw)))  # 1960.5 is no whole number
    if field.type == "date" and kind == "TIMESTAMP":  # a time of day is no date
        bad = bad | (raw.isNotNull() & (raw.cast("TIMESTAMP_NTZ") != value.cast("TIMESTAMP_NTZ")))
    return _Typed(field, column, value, bad, [])


def _ascii(text: Any) -> Any:
    """Whether `text` is ASCII: as many bytes as characters (far cheaper than a regular expression)."""
    from pyspark.sql import functions as F

    return F.octet_length(text) == F.length(text)


def _nfc(text: Any) -> Any:
    """`text` in Unicode's composed form. Spark has no such function: a Python function on the executors (standard
    library only, so any executor's Python runs it), given only the cells that are not ASCII (the rest are their own
    composed form)."""
    from pyspark.sql import functions as F

    return F.coalesce(_nfc_udf()(F.when(~_ascii(text), text)), text)


def _nfc_udf():
    # Made here, so that cloudpickle sends the function itself to the executors, which need not have this tool.
    import unicodedata

    from pyspark.sql.functions import udf

    def nfc(cell):
        return None if cell is None else unicodedata.normalize("NFC", cell)

    return udf(nfc, "string")


@dataclass
class _Counted:
    bad: int                              # cells that cannot be typed
    rows: int
    offsets: dict[str, int]               # file (as the reader names it) -> its first row's position
    fixes: list[Normalisation]
    composed: set[str]                    # text columns with cells that are not ASCII: composed (NFC)


def _count(files: Any, typed: list[_Typed]) -> _Counted:
    """Each file's rows (so positions run on from file to file, in name order, as DuckDB reads a folder), in one
    small job; then in one job over the whole release, the cells that cannot be typed, each fix's count and first
    example (as cast counts them), and the text cells that are not ASCII. Grouped by file, that second job took 13 s
    at 1M rows: a first example (a text minimum) is no fixed-width value, so Spark sorted every row by file to group
    them; and with the counts alone grouped by file (the two jobs one), 51 s at 10M rows against 2.3 + 5.6 s.
    Then, only over the rows holding cells that are not ASCII, a third job composes them (NFC) and counts those
    that change: a Python function over every row took longer than the whole check."""
    from pyspark.sql import functions as F

    offsets, rows = {}, 0
    for path, count in sorted(files.groupBy(FILE).count().collect(), key=lambda r: _parts(r[0])):
        offsets[path] = rows
        rows += count
    bad = F.lit(False)
    for t in typed:
        bad = bad | t.bad
    fixes = [(t.column, kind, description, condition) for t in typed for kind, description, condition in t.fixes]
    texts = [t for t in typed if t.text is not None]
    parts = [F.count_if(bad).alias("bad")]
    parts += [F.count_if(condition).alias(f"n{i}") for i, (_, _, _, condition) in enumerate(fixes)]
    parts += [F.count_if(~_ascii(_raw(t.column))).alias(f"a{j}") for j, t in enumerate(texts)]
    whole = files.agg(*parts).collect()[0]
    made = [(column, kind, description, condition, whole[f"n{i}"])
            for i, (column, kind, description, condition) in enumerate(fixes) if whole[f"n{i}"]]
    examples: Any = []
    if made:  # each fix's first example, read over only the rows with a fix (few: a text minimum is costly)
        any_fix = F.lit(False)
        for _, _, _, condition, _ in made:
            any_fix = any_fix | condition
        examples = files.where(any_fix).agg(*[F.min(F.when(condition, _raw(column))).alias(f"e{i}")
                                              for i, (column, _, _, condition, _) in enumerate(made)]).collect()[0]

    out = [Normalisation(kind, description, column, count, examples[i])
           for i, (column, kind, description, _, count) in enumerate(made)]
    composed = [t for j, t in enumerate(texts) if whole[f"a{j}"]]
    out += _composing(files, composed)
    # In cast's order (field by field, each field's fixes in turn), so the report reads alike whichever engine read it.
    order = {(t.column, kind): (i, k) for i, t in enumerate(typed) for k, kind in enumerate(_described(t))}
    out.sort(key=lambda n: order.get((n.column or "", n.kind), (len(typed), 0)))
    return _Counted(whole["bad"], rows, offsets, out, {t.column for t in composed})


def _composing(files: Any, texts: list[_Typed]) -> list[Normalisation]:
    """The `unicode-normalisation` fix of each of `texts` (columns with cells not ASCII), counted over only the rows
    that hold such a cell."""
    from pyspark.sql import functions as F

    if not texts:
        return []
    any_not_ascii = F.lit(False)
    for t in texts:
        any_not_ascii = any_not_ascii | ~_ascii(_raw(t.column))
    conditions = [~t.missing & (F.trim(_raw(t.column)) != _nfc(F.trim(_raw(t.column)))) for t in texts]
    parts = [p for i, c in enumerate(conditions) for p in (F.count_if(c).alias(f"n{i}"),
                                                          F.min(F.when(c, _raw(texts[i].column))).alias(f"e{i}"))]
    row = files.where(any_not_ascii).agg(*parts).collect()[0]
    return [Normalisation("unicode-normalisation", _described(t)["unicode-normalisation"], t.column, row[f"n{i}"],
                          row[f"e{i}"]) for i, t in enumerate(texts) if row[f"n{i}"]]


def _described(t: _Typed) -> dict[str, str]:
    """Each fix `t`'s cells may need -> how audit.ingest.cast describes it, in cast's order."""
    return _descriptions(t.field, t.column, list(t.markers))


def _descriptions(field: Field, column: str, markers: list[str]) -> dict[str, str]:
    return {kind: description for kind, description, _ in _normalisation_sql(field, column, markers)}


def _raw(column: str) -> Any:
    from pyspark.sql import functions as F

    return F.col(f"`{column.replace('`', '``')}`")


def _refuse_first_bad(files: Any, typed: list[_Typed], uri: str) -> None:
    """The InputError naming the first cell (by file, then row) that cannot be typed."""
    from pyspark.sql import functions as F

    flags = [t.bad.alias(f"bad{i}") for i, t in enumerate(typed)]
    cells = [_raw(t.column).cast("STRING").alias(f"cell{i}") for i, t in enumerate(typed)]
    any_bad = F.lit(False)
    for t in typed:
        any_bad = any_bad | t.bad
    first = files.where(any_bad).select(FILE, ROW, *flags, *cells).orderBy(FILE, ROW).limit(1).collect()[0]
    i = next(i for i in range(len(typed)) if first[f"bad{i}"])
    t = typed[i]
    raise InputError(f"{first[f'cell{i}']!r} is not a valid {t.field.type} for field {t.field.name!r} (read where it "
                     "lies, a number, date or flag in text is read in its plain form only: give a release that needs "
                     "more clean-up as a file)", file=first[FILE], row=first[ROW] + 1, column=t.column,
                     value=first[f"cell{i}"])


def _parts(path: str) -> tuple[str, ...]:
    return PurePosixPath(unquote(urlparse(path).path)).parts


def _digests(spark: Any, uri: str) -> dict[tuple[str, ...], str]:
    """Each Parquet file's sha256, computed on the executors, keyed by its path's parts (the Parquet reader names a
    file as a URI, binaryFile in Hadoop's form of it). Spark's binaryFile source holds a whole file as one value in an
    executor's memory (no source streams a file's bytes to a digest there), so an executor needs memory for the
    largest file: when it runs out, the error says how large that file is."""
    from pyspark.sql import functions as F

    files = (spark.read.format("binaryFile").option("recursiveFileLookup", "true")
             .option("pathGlobFilter", PARQUET_FILES).load(uri))
    try:
        read = files.select("path", F.sha2("content", 256)).collect()
    except Exception as exc:
        why = _first_line(exc)
        if "OutOfMemoryError" in str(exc):
            (largest,) = files.agg(F.max("length")).collect()[0]  # read from the listing, not the files
            why = (f"an executor ran out of memory holding a file of {largest / 2**20:,.0f} MB to digest it (Spark "
                   "reads a whole file as one value): give executors more memory (spark.executor.memory; "
                   "spark.driver.memory in local mode) or write the release as smaller files")
        raise InputError(f"the cluster cannot digest its files: {why}", file=uri) from exc
    return {_parts(path): digest for path, digest in read}


def _release_sha256(uri: str, digests: dict[tuple[str, ...], str]) -> str:
    """As audit.ingest.parquet.parquet_sha256: of one file, its bytes' digest; of a folder, every file's relative path
    and digest, in order."""
    import hashlib

    root = _parts(uri.rstrip("/"))
    if uri.rstrip("/").lower().endswith(tuple(SUFFIXES)) and len(digests) == 1:
        return next(iter(digests.values()))
    digest = hashlib.sha256()
    for parts in sorted(digests):  # as Path objects sort: part by part
        relative = PurePosixPath(*parts[len(root):]).as_posix()
        digest.update(f"{relative}\0{digests[parts]}\n".encode())
    return digest.hexdigest()
