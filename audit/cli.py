"""The `audit` command: a thin layer over `audit.pipeline`.

Exit codes: 0 clean, 1 findings (or publication refused), 2 usage or input error.
Heavy libraries (Great Expectations, DuckDB, frictionless) are imported inside
commands, so `audit --help` stays fast.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import signal
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import click

from audit.render import formats_for

EXIT_FINDINGS = 1
EXIT_INPUT = 2
DEBUG = False
DETAIL = 0   # how much a report in text says: -1 its verdict alone (-q), 1 every check run besides (-v)


lock_timeout_option = click.option(
    "--lock-timeout", type=click.FloatRange(min=0), default=60, show_default=True, envvar="AUDIT_LOCK_TIMEOUT",
    help="Seconds to wait while another audit process is writing the change log (then exit 2).",
)


@contextlib.contextmanager
def exit_on_audit_error(fmt: str | None = None):
    """An AuditError ends the command with one line on stderr and its exit code (2, or 1 for tampering found
    in the records a command would build on); for machines (`fmt`), also the
    error where they read the report, with its location."""
    from audit.errors import AuditError

    try:
        yield
    except AuditError as exc:
        click.echo(f"error: {' '.join(str(exc).split())}", err=True)  # one line, whatever a library put in it
        detail = {"message": str(exc), **vars(exc)}
        if fmt == "json":
            import json

            click.echo(json.dumps({"success": False, "error": detail}, indent=2))
        elif fmt == "junit":
            from audit.ci import junit_error

            click.echo(junit_error(str(exc), detail))
        elif fmt == "github":
            from audit.ci import github_error

            click.echo(github_error(str(exc)))
        sys.exit(exc.exit_code)


def workspace_option(command):
    """--workspace (and --lock-timeout), shared by every command that works on a workspace."""

    @click.option(
        "--workspace",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Folder holding datapackages/, expectations/ and the change log (default: the nearest such folder "
             "from the current one up, as git finds its repository; else the current folder).",
    )
    @lock_timeout_option
    @functools.wraps(command)
    def wrapper(*args, workspace: Path | None, lock_timeout: float, **kwargs):
        from audit.workspace import Workspace, find_workspace

        with exit_on_audit_error(kwargs.get("fmt")):
            root = workspace if workspace is not None else find_workspace(Path.cwd())
            return command(*args, workspace=Workspace.at(root, lock_timeout), **kwargs)

    return wrapper


# Each kind of output's formats, from the one table (audit.render.FORMATS). audit.render imports nothing heavy at
# its top (no DuckDB), so `audit --help` stays quick.
FORMAT_NAMES = {kind: formats_for(kind) for kind in ("report", "diff", "verify")}
FORMAT_HELP = "text for people, json for machines, junit (JUnit XML) for CI, github for GitHub Actions annotations"


def format_option(command, kind: str = "report"):
    names = FORMAT_NAMES[kind]
    extra = "".join(text for fmt, text in (("csv", ", csv for a spreadsheet"),
                                           ("notes", ", notes for a revision-notes file to complete")) if fmt in names)
    return click.option(
        "--format", "fmt", type=click.Choice(names), default="text", show_default=True,
        help=FORMAT_HELP + extra + ".",
    )(command)


ENGINE_HELP = ("Run the suite and the diff's passes over whole releases on DuckDB, or on Apache Spark (audit.yaml's "
               "spark: settings; local by default). Default: audit.yaml's engine:, else duckdb.")


def engine_option(command, help: str = ENGINE_HELP):
    return click.option("--engine", type=click.Choice(["duckdb", "spark"]), default=None, help=help)(command)


@contextlib.contextmanager
def release_file(file: str) -> Iterator[Path | str]:
    """`file` (a URI as given: audit.ingest.in_place), or for `-` what standard input holds, kept in a file named
    `stdin` for the command's duration (the release is read twice, to type it and to digest it, and recorded under
    that name)."""
    from audit.files import is_uri

    if is_uri(file):
        yield file
        return
    if file != "-":
        yield Path(file)
        return
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory(prefix="audit-stdin-") as folder:
        path = Path(folder) / "stdin"
        with path.open("wb") as copy:
            shutil.copyfileobj(sys.stdin.buffer, copy)
        yield path


def notes_option(command):
    command = click.option(
        "--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]),
        help="The export's as-of date (YYYY-MM-DD): where the dataset's rolling window ends for this release, when "
             "its last day may have no rows.",
    )(command)
    command = click.option(
        "--against", type=click.Choice(["published", "recorded"]), default="published", show_default=True,
        help="Count changes since the last published release, or since the last recorded one (an office that "
             "checks weekly and publishes monthly); the report names which.",
    )(command)
    return click.option(
        "--notes", type=click.Path(dir_okay=False, path_type=Path),
        help="YAML file of revision notes explaining changes since the baseline release (see --against).",
    )(command)


def echo_all(text: str | Iterable[str], nl: bool = True, piece: int = 1 << 16) -> None:
    """Print a whole output (a report, a diff, a verification: a text, or its pieces in order as they are made) in
    pieces of a pipe's size: one write of megabytes to a reader that stopped reading can end without an error, so the
    command would give its verdict as if it had been read; a piece at a time, the closed pipe is noticed (and
    AuditGroup ends the command with 141)."""
    def write(whole: str) -> None:
        for start in range(0, len(whole), piece):
            click.echo(whole[start:start + piece], nl=False)

    pending: list[str] = []
    size = 0
    for part in [text] if isinstance(text, str) else text:  # small pieces gathered up to a pipe's size
        pending.append(part)
        size += len(part)
        if size >= piece:
            write("".join(pending))
            pending, size = [], 0
    write("".join(pending))
    if nl:
        click.echo()


def _emit(report, fmt: str, heading: str | None = None, file: Path | str | None = None) -> None:
    from audit.render import render

    extra = {"detail": DETAIL} if fmt == "text" else {}  # -q and -v shape what a person reads, not what machines do
    echo_all(render("report", fmt, report, heading=heading, file=file and str(file), **extra))


EXIT_INTERRUPTED = 130   # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C
EXIT_BROKEN_PIPE = 141   # 128 + SIGPIPE, as Unix tools end when their reader stops reading
EXIT_TERMINATED = 143    # 128 + SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM (a CI runner's timeout, systemd, `kill`), unwound as Ctrl-C is: Python's default ends the process on
    the spot, and a command stopped that way left its temporary folders behind (28 GB spilled by a 100M-row check)."""


def _terminated(signum: int, frame: object) -> None:
    raise Terminated()


class AuditGroup(click.Group):
    """The command group, which turns an interrupt or a reader that stopped reading into what Unix tools say,
    never into a verdict: click would print "Aborted!" and exit 1, which means findings."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as stopped:
            # Whatever the command was writing rolled back as the interrupt unwound it (one transaction; a package
            # or site built aside is removed), so nothing half-done is left.
            how = "terminated" if isinstance(stopped, Terminated) else "interrupted"
            click.echo(f"{how}: the command stopped before its end; what it had not finished writing was rolled "
                       "back", err=True)
            ctx.exit(EXIT_TERMINATED if isinstance(stopped, Terminated) else EXIT_INTERRUPTED)
        except click.UsageError as exc:
            # One line, as every refusal is (click's own is four: usage, a hint, a blank, the error).
            used = exc.ctx or ctx
            usage = " ".join(used.get_usage().split()).removeprefix("Usage: ")
            click.echo(f"error: {exc.format_message().rstrip('.')} (usage: {usage}; see `{used.command_path} --help`)",
                       err=True)
            ctx.exit(exc.exit_code)
        except BrokenPipeError:
            # The reader of our output went away (`audit check ... | head`): say nothing more, anywhere.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(EXIT_BROKEN_PIPE)


@click.group(cls=AuditGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="crime-data-audit")
@click.option("--debug", is_flag=True, envvar="AUDIT_DEBUG",
              help="On an unexpected internal error, show the traceback (it is one line without).")
@click.option("-q", "--quiet", is_flag=True, help="A report in text is its verdict alone (the exit code says it too).")
@click.option("-v", "--verbose", is_flag=True, help="A report in text lists every check run, passed or not.")
def cli(debug: bool, quiet: bool, verbose: bool) -> None:
    """Audit, record and publish crime statistics."""
    global DEBUG, DETAIL
    if quiet and verbose:
        raise click.UsageError("-q and -v ask for less and more at once: give one")
    DEBUG = debug
    DETAIL = -1 if quiet else 1 if verbose else 0


@cli.command()
@click.argument("dataset")
@click.argument("file", type=click.Path())
@click.option("--waivers", type=click.Path(dir_okay=False, path_type=Path), help="YAML file of accepted findings.")
@click.option("--baseline", type=click.Path(file_okay=False, path_type=Path),
              help="A published package (its folder) to compare with instead of the change log's baseline, once it "
                   "verifies: a pull request's check then needs no audit.duckdb in git.")
@notes_option
@engine_option
@format_option
@workspace_option
def check(dataset: str, file: str, waivers: Path | None, notes: Path | None, against: str, as_of,
          baseline: Path | None, engine: str | None, fmt: str, workspace) -> None:
    """Validate FILE against DATASET's descriptor and suite, and against its last published release (or with
    --against recorded, its last recorded one): every change must be explained by a revision note. Writes nothing.
    With --engine spark, FILE may be a URI (file://, s3a://, hdfs://) of Parquet the cluster reads where it lies:
    this machine opens none of it."""
    from audit import pipeline

    with release_file(file) as path:
        report = pipeline.check(workspace, dataset, path, waivers, notes, against, engine, as_of and as_of.date(),
                                baseline)
    _emit(report, fmt, file=file)
    if report.only_unrun:
        click.echo(f"error: {len(report.unrun)} check(s) of the suite could not run on this release, and nothing else "
                   "failed: the report says which (not-run)", err=True)
        sys.exit(EXIT_INPUT)
    sys.exit(0 if report.success else EXIT_FINDINGS)


@cli.command()
@click.argument("dataset")
@click.argument("file", type=click.Path())
@click.option("--waivers", type=click.Path(dir_okay=False, path_type=Path), help="YAML file of accepted findings.")
@click.option("--version", "version", help="Label for this release (default: the next number).")
@notes_option
@engine_option
@format_option
@workspace_option
def ingest(dataset: str, file: str, waivers: Path | None, version: str | None, notes: Path | None, against: str,
           as_of, engine: str | None, fmt: str, workspace) -> None:
    """Validate FILE and record it as a release of DATASET in the change log, with every change since
    the last published release (or with --against recorded, the last recorded one) and the note that explains it.
    With --engine spark, FILE may be a URI (file://, s3a://, hdfs://) of Parquet the cluster reads where it lies:
    the log keeps the URI and its files' digest in place of a copy of its rows, so keep those files unchanged."""
    from audit import pipeline

    with release_file(file) as path:
        result = pipeline.ingest(workspace, dataset, path, waivers, version, notes, against, engine,
                                 as_of and as_of.date())
    heading = None
    if result.already_recorded:
        heading = (f"already recorded: this file is release {result.report.release.version}, with these waivers "
                   "and notes; nothing new was logged (give new waivers, notes or --version to re-audit it)")
    elif result.supersedes:
        heading = (f"re-audited: this file was recorded as {result.supersedes}; it is recorded again as release "
                   f"{result.report.release.version}, which supersedes it (the earlier record stays in the log)")
    _emit(result.report, fmt, heading, file)
    sys.exit(0 if result.report.success else EXIT_FINDINGS)


@cli.command()
@click.argument("dataset")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Publication root: the package goes to OUT/DATASET/VERSION/ (default: the workspace's published/).")
@click.option("--version", "version", help="Recorded release to publish (default: the latest).")
@click.option("--dry-run", is_flag=True, help="Write nothing: say what would be written, or every reason it would not.")
@click.option("--issued", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The day the release was issued (YYYY-MM-DD), shown beside the day it is published (default: the "
                   "date in its file's name, if any).")
@workspace_option
def publish(dataset: str, out: Path | None, version: str | None, dry_run: bool, issued, workspace) -> None:
    """Publish DATASET's latest recorded release as a Frictionless data package.

    Refused (exit 1) while the release has unwaived findings, unexplained revisions among them; refused (exit 2)
    while the descriptor has gaps a package must not have (every one is named)."""
    from audit import pipeline
    from audit.findings import count_rows
    from audit.render import refusal_text

    result = pipeline.publish(workspace, dataset, out, version, dry_run, issued and issued.date())
    if result.already_published:
        click.echo(f"{dataset} release {result.version} is already published as version {result.package_version} at "
                   f"{result.path}; nothing new was written")
        return
    signed = f"signed by {result.signed_by}" if result.signed_by else \
        "not signed (no signing_key in audit.yaml or AUDIT_SIGNING_KEY)"
    if result.dry_run:
        reasons = result.refusals or []
        verdict = "would be refused" if result.refused or reasons else "would be published"
        click.echo(f"dry run: {dataset} release {result.version} {verdict} as version {result.package_version} "
                   f"({result.version_rule}) to {result.path}, {signed}; nothing was written")
        click.echo("files: " + ", ".join(result.files or []))
        if result.refused:
            click.echo(refusal_text(result.report, f"audit check {dataset} FILE"))
        for reason in reasons:
            click.echo(f"refused: {dataset} cannot be published without {reason}")
        sys.exit(EXIT_FINDINGS if result.refused else EXIT_INPUT if reasons else 0)
    if result.refused:
        click.echo(refusal_text(result.report, f"audit report {dataset} --version {result.version}"), err=True)
        sys.exit(EXIT_FINDINGS)
    waived = count_rows(result.report.waived)
    caveats = f", with {waived:,} waived finding(s) as caveats" if waived else ""
    click.echo(f"published {dataset} release {result.version} as version {result.package_version} "
               f"({result.version_rule}) to {result.path}, {signed}{caveats}")


@cli.command()
@click.argument("dataset")
@click.option("--version", "version", help="Recorded release to report on (default: the latest).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the page (default: reports/DATASET/VERSION.html in the workspace).")
@functools.partial(engine_option, help="spark: read a release the log keeps where it lies (ingested from a URI) "
                   "there, held to its recorded digest, and sum its charts on the cluster. Default: audit.yaml's "
                   "engine:, else duckdb.")
@workspace_option
def report(dataset: str, version: str | None, out: Path | None, engine: str | None, workspace) -> None:
    """Write the HTML report of a recorded release of DATASET: summary, each total over time with flagged
    points, the findings and the revisions. Every published package carries it too, as report.html."""
    from audit import pipeline

    path = pipeline.report_page(workspace, dataset, version, out, engine)
    click.echo(f"wrote {path}")


@cli.command()
@click.option("--root", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Publication root to list (default: the workspace's published/).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Where to write (default: ROOT/data.json).")
@workspace_option
def feed(root: Path | None, out: Path | None, workspace) -> None:
    """Write a DCAT-US 1.1 catalog (data.json) of every published dataset for an open data portal to harvest.

    Download URLs start with `portal.base_url` from the workspace's audit.yaml."""
    from audit import pipeline

    path, catalog = pipeline.feed(workspace, root, out)
    click.echo(f"wrote {path}: {len(catalog['dataset'])} dataset(s)")


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the site to (default: site/ in the workspace); replaced whole.")
@click.option("--root", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Publication root to read (default: the workspace's published/).")
@workspace_option
def site(out: Path | None, root: Path | None, workspace) -> None:
    """Build the public site: every dataset, version, change and reason, with charts, a data dictionary,
    downloads, how to verify, a glossary, an Atom feed of updates and a DCAT-US data.json."""
    from audit import pipeline

    built = pipeline.site(workspace, out, root)
    unverified = [d.name for d in built.datasets if not d.verified]
    click.echo(f"wrote {built.root}: {len(built.datasets)} dataset(s), {len(built.pages)} page(s), feed.atom"
               + (", data.json" if built.catalog else " (no data.json: audit.yaml's portal settings are incomplete)"))
    if unverified:
        click.echo(f"NOT verified: {', '.join(unverified)}: a published package does not match its change log "
                   "(the site says so on their pages)")
        sys.exit(EXIT_FINDINGS)


@cli.command()
@click.option("--package", "packages", multiple=True, type=click.Path(file_okay=False, path_type=Path),
              help="A published package to check; repeat for several versions. Works without the office's log.")
@click.option("--public-key", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The office's Ed25519 public key (PEM): packages must be signed by it.")
@click.option("--workspace", type=click.Path(file_okay=False, path_type=Path),
              help="Workspace whose change log to verify (default: the current folder, unless --package is given).")
@click.option("--witness-key", "witness_keys", multiple=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="A witness's public key (its .vkey line); each package must be cosigned by --quorum of them. "
                   "Default with --workspace: the witnesses in audit.yaml.")
@click.option("--quorum", type=click.IntRange(min=1), help="How many of the witnesses must have cosigned (default 1).")
@click.option("--witness", "witness_urls", multiple=True,
              help="A witness's URL, asked for the latest checkpoint it cosigned of each log: a newer one is a "
                   "rollback, another of the same size a fork.")
@click.option("--site", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="A public site (audit site's folder, as served): every link, data.json and feed.atom held to the "
                   "packages it offers, and the public key it serves to --public-key.")
@functools.partial(engine_option, help="spark: read the releases the log keeps where they lie (ingested from a URI) "
                   "on the cluster, hold them to their digests and recompute the diffs with them; otherwise each is "
                   "named as not checked. Default: audit.yaml's engine:, else duckdb.")
@functools.partial(format_option, kind="verify")
@lock_timeout_option
def verify(packages: tuple[Path, ...], public_key: Path | None, workspace: Path | None, witness_keys: tuple[Path, ...],
           quorum: int | None, witness_urls: tuple[str, ...], site: Path | None, engine: str | None, fmt: str,
           lock_timeout: float) -> None:
    """Recompute the change log's hash chains, and check published packages against them.

    Exit 0 when everything holds, 1 when an entry was changed, deleted, inserted or reordered, entries were
    cut from the end, or a package's files differ from what was published; 2 when nothing could be read, or
    the tool failed on a package and found nothing altered."""
    from audit import pipeline
    from audit.render import render
    from audit.workspace import Workspace

    with exit_on_audit_error():
        root = workspace if workspace is not None else (None if packages or site else Path("."))
        result = pipeline.verify(Workspace.at(root, lock_timeout) if root is not None else None, list(packages),
                                 public_key, list(witness_keys), quorum, list(witness_urls), site, engine)
    echo_all(render("verify", fmt, result))
    sys.exit(0 if result.ok else EXIT_INPUT if result.tool_failed else EXIT_FINDINGS)


@cli.command()
@click.argument("dataset")
@click.option("--seq", required=True, type=click.IntRange(min=1), help="The entry to prove (its seq in the log).")
@click.option("--size", type=click.IntRange(min=1),
              help="The tree size to prove it in (default: the newest published package's checkpoint).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people, json for machines.")
@workspace_option
def prove(dataset: str, seq: int, size: int | None, fmt: str, workspace) -> None:
    """Print the inclusion proof of one entry of DATASET's log (a recorded figure, a change, a note, a publication)
    in the tree a package's checkpoint names: with it, a reader who holds that package checks the entry with a few
    lines of code in any language (RFC 9162). Writes nothing."""
    import json

    from audit import pipeline

    proof = pipeline.prove(workspace, dataset, seq, size)
    data = proof.to_dict()
    if fmt == "json":
        echo_all(json.dumps(data, indent=2, ensure_ascii=False))
        return
    click.echo(f"entry seq {seq} of {data['origin']} (leaf {data['leaf_index']}), in the tree of {data['size']} "
               f"entries whose root is {data['root']}:")
    click.echo(json.dumps(data["entry"], sort_keys=True, ensure_ascii=False))
    click.echo(f"inclusion proof ({len(data['proof'])} hashes, RFC 9162 order):")
    for line in data["proof"]:
        click.echo(line)


@cli.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def keygen(path: Path) -> None:
    """Create an Ed25519 signing key at PATH (and its public key at PATH.pub) for signing published
    chain heads. Keep PATH private; publish PATH.pub; name PATH as signing_key in audit.yaml."""
    from audit.log.signing import generate_key, public_path

    with exit_on_audit_error():
        fingerprint = generate_key(path)
    click.echo(f"wrote {path} (private: keep it off the repository) and {public_path(path)} (publish it)")
    click.echo(f"key fingerprint: {fingerprint}")


@cli.group()
def witness() -> None:
    """Run a witness: the service a board, a newsroom or a university runs on its own machine, with its own key,
    that cosigns an office's checkpoints only while its log stays one append-only history."""


@witness.command("keygen")
@click.argument("name")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def witness_keygen(name: str, path: Path) -> None:
    """Create the witness NAME's Ed25519 key at PATH (private) and its public key at PATH.vkey: the one line an
    office names in audit.yaml and a reader gives to `audit verify --witness-key`."""
    from audit.witness.keys import generate_witness_key, vkey_path

    with exit_on_audit_error():
        key = generate_witness_key(name, path)
    click.echo(f"wrote {path} (private: keep it on the witness's machine) and {vkey_path(path)} (publish it)")
    click.echo(key.vkey())


@witness.command("serve")
@click.option("--key", "key_path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The witness's private key (from `audit witness keygen`; its .vkey beside it names the witness).")
@click.option("--state", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the latest checkpoint of each log and the evidence of forks (kept across restarts).")
@click.option("--office-key", "office_keys", multiple=True, required=True,
              type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="An office's Ed25519 public key (PEM) whose logs this witness cosigns; repeat for several.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8800, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port; see --ready).")
@click.option("--ready", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the address served to this file once listening.")
def witness_serve(key_path: Path, state: Path, office_keys: tuple[Path, ...], host: str, port: int,
                  ready: Path | None) -> None:
    """Serve the witness over HTTP until stopped (Ctrl-C or SIGTERM)."""
    from audit.log.signing import load_public_key
    from audit.witness.keys import read_private_key, read_witness_key, vkey_path
    from audit.witness.server import serve
    from audit.witness.service import Witness

    with exit_on_audit_error():
        private = read_private_key(key_path)
        name = read_witness_key(vkey_path(key_path)).name
        service = Witness(name, private, state, [load_public_key(k) for k in office_keys])
    serve(service, host, port, ready)


@cli.command()
@click.argument("dataset")
@click.option("--from", "from_version", help="Older release (default: the release published last before --to).")
@click.option("--to", "to_version", help="Newer release (default: the latest recorded).")
@engine_option
@functools.partial(format_option, kind="diff")
@workspace_option
def diff(dataset: str, from_version: str | None, to_version: str | None, engine: str | None, fmt: str, workspace) -> None:
    """List every change between two recorded releases of DATASET, each with the note that explains it.

    Exit 1 when a change is explained by no note."""
    from audit import pipeline
    from audit.render import render

    result = pipeline.diff(workspace, dataset, from_version, to_version, engine)
    echo_all(render("diff", fmt, result), nl=fmt != "csv")
    sys.exit(EXIT_FINDINGS if result.unexplained else 0)


@cli.command()
@click.argument("dataset")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace an existing descriptor and suite.")
@click.option("--update", is_flag=True,
              help="Bring the existing descriptor and suite up to FILE's columns (added, removed, renamed), keeping "
                   "every other edit.")
@click.option("--threshold", type=click.FloatRange(50, 100), default=90, show_default=True,
              help="Propose a sum, rate or percent change that holds in at least this percent of the rows.")
@workspace_option
def init(dataset: str, files: tuple[Path, ...], force: bool, update: bool, threshold: float, workspace) -> None:
    """Write a starter descriptor and suite for DATASET from FILES (one release, or several: a weekly export's
    weeks, read together), with the sums, rates and percent changes that hold in them, and the rows that break
    them. With --update, bring DATASET's own descriptor and suite up to a release whose columns changed."""
    if update:
        from audit.errors import ConfigError

        if force:
            raise ConfigError("--update keeps the office's descriptor and suite, --force replaces them: give one")
        if len(files) > 1:
            raise ConfigError("--update brings the descriptor up to one release: give one file")
        return _init_update(dataset, files[0], workspace)
    from audit.init import init_dataset, key_text, offences_line, rejected_line, rule_lines

    result = init_dataset(workspace, dataset, files, force, threshold / 100)
    profile = result.profile
    read = files[0].name if len(files) == 1 else f"{len(files)} files ({files[0].name} to {files[-1].name})"
    click.echo(f"{read}: {profile.rows} rows, {len(profile.columns)} columns")
    for f in result.read_findings:
        click.echo(f"{f.check}: {f.message}")
    click.echo(f"key proposed: {key_text(profile)}")
    if result.offences is not None:
        click.echo(offences_line(result.offences))
    for p in result.proposals:
        click.echo("\n".join(rule_lines(p)))
    for r in result.rejected:
        click.echo(rejected_line(r))
    click.echo(f"wrote {result.descriptor_path} and {result.suite_path}: fill in the TODOs and confirm each proposal")


def _init_update(dataset: str, file: Path, workspace) -> None:
    from audit.init.update import update_dataset

    result = update_dataset(workspace, dataset, file)
    if not result.changed:
        click.echo(f"{file.name}: its columns are the descriptor's fields; nothing to update")
        return
    for f in result.added:
        click.echo(f"added field {f.name!r} ({f.type}) for column {f.descriptor['title']!r}")
    for name in result.removed:
        click.echo(f"removed field {name!r}: the release has no column for it")
    for dropped in result.dropped:
        click.echo(f"    removed from the suite: {dropped}")
    for narrowed in result.narrowed:
        click.echo(f"    in the suite: {narrowed}")
    for name, (header, how) in result.aliased.items():
        click.echo(f"field {name!r} is also read from column {header!r}, which {how} (added to its aliases: check "
                   "that it is the same column)")
    click.echo(f"wrote {result.descriptor_path} and {result.suite_path}: describe each added field (its TODO) and "
               "add the rules it takes part in; then check the release again")


@cli.command()
@click.argument("incident_dataset")
@click.argument("summary_dataset")
@click.option("--incident-file", type=click.Path(),
              help="Incident file (or folder of Parquet) to use instead of the latest recorded release; with --engine "
                   "spark, the URI of a Parquet release the cluster reads where it lies.")
@click.option("--summary-file", type=click.Path(),
              help="Summary file to use instead of the latest recorded release (read on this machine).")
@click.option("--incident-version", help="Recorded incident release to use (default: the latest).")
@click.option("--summary-version", help="Recorded summary release to use (default: the latest).")
@engine_option
@format_option
@workspace_option
def reconcile(incident_dataset: str, summary_dataset: str, incident_file: str | None, summary_file: str | None,
              incident_version: str | None, summary_version: str | None, engine: str | None, fmt: str, workspace) -> None:
    """Check that INCIDENT_DATASET, counted by period and category, equals SUMMARY_DATASET."""
    from audit import pipeline

    report = pipeline.reconcile(workspace, incident_dataset, summary_dataset, incident_file, summary_file,
                                incident_version, summary_version, engine)
    _emit(report, fmt)
    sys.exit(0 if report.success else EXIT_FINDINGS)


def internal_error(exc: BaseException) -> int:
    """An error the tool did not foresee: never exit 1 (which says the data has findings). A file system that
    refused a read or write is the office's to fix (exit 2, naming the file); anything else is a bug in the
    tool: one line saying so and how to report it, and the traceback only with --debug."""
    import traceback

    if DEBUG:
        traceback.print_exception(exc)
    duckdb = sys.modules.get("duckdb")
    if duckdb is not None and isinstance(exc, duckdb.IOException):  # DuckDB's own file errors (a full disk)
        click.echo(f"error: cannot read or write a file: {' '.join(str(exc).split())[:300]}", err=True)
    elif isinstance(exc, OSError) and exc.strerror:
        where = f" {exc.filename}" if exc.filename else ""
        full = " (the disk is full: free some space and run the command again)" if exc.errno == errno.ENOSPC else ""
        click.echo(f"error: cannot read or write{where}: {exc.strerror}{full}", err=True)
    else:
        click.echo(f"error: internal error ({type(exc).__name__}: {' '.join(str(exc).split())[:300]}); this is a bug "
                   f"in audit, not a finding about the data: please report it with the command you ran and the "
                   f"output of the same command with --debug", err=True)
    return EXIT_INPUT


def run(args: list[str] | None = None) -> int:
    """Run one command as the console does (`args`, else the process's own), and return its exit code: every
    error, foreseen or not, is one line (see internal_error)."""
    try:
        cli.main(args=args, prog_name="audit", standalone_mode=True)
        return 0
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_INPUT)
    except Exception as exc:  # noqa: BLE001 -- see internal_error
        return internal_error(exc)


def main() -> None:
    """Console entry point."""
    # A process started in the background by a script inherits SIGINT ignored; the audit stops on it all the same.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminated)
    from audit.validate import this_process_runs_one_command

    this_process_runs_one_command()
    code = run()
    if "audit.engine.gx_duckdb" in sys.modules:
        from audit.engine.gx_duckdb import exit_skipping_teardown

        exit_skipping_teardown(code)
    sys.exit(code)
