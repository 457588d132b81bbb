"""The published folders checked against the log: every publication it records in place (not pending, not missing,
not replaced by another package) with exactly the files it lists, and each dataset's index.json listing exactly the
published versions.
"""

from __future__ import annotations

import os
from pathlib import Path

from audit.errors import InputError
from audit.log import ChangeLog
from audit.log.manifest import file_problems, read_head
from audit.publish.folder import pending_folder
from audit.publish.index import by_folder, index_is_current
from audit.verify.names import looks_like
from audit.verify.package import PackageCheck, checked_package, data_file_problem


def verify_published(root: Path, log: ChangeLog, checked: dict[Path, PackageCheck] | None = None
                     ) -> tuple[list[str], list[str], list[str]]:
    """Every publication the log records against the folders on disk and the indexes. Returns the problems,
    the publications a crash left pending and the packages the tool failed to check. `checked`: packages already
    checked on their own (with no trusted key), by absolute path, so none is read twice."""
    problems, pending, failures = [], [], []
    for dataset in log.datasets():
        publications = log.publications(dataset)
        unfinished = set()  # folders with a version still pending: their index is rewritten when it is finished
        for publication in publications:
            target = root / publication.path
            label = f"{dataset} version {publication.package_version}"
            if not target.is_dir():
                if pending_folder(target, publication.hash).is_dir():
                    unfinished.add(target.parent)
                    pending.append(f"{label} is half-published: the log records it but its package is still hidden "
                                   f"at {pending_folder(target, publication.hash).name}; run `audit publish {dataset}` "
                                   "to finish it")
                else:
                    problems.append(f"{label} is missing: the log published it to {target}, which is gone")
                continue
            head, why = read_head(target)
            if head is None or (head.get("seq"), head.get("head")) != (publication.seq, publication.hash):
                found = f"its head is seq {head.get('seq')}" if head is not None else "it has no readable head"
                problems.append(f"{label} at {target} is not the package that was published: "
                                + (why or f"{found}, the log's publication is seq {publication.seq}"))
                continue
            # The package as an outsider checks it (its extract too), and its files against the log's entry.
            alone = (checked or {}).get(Path(os.path.abspath(target)))
            if alone is None:
                try:
                    alone = checked_package(target, None)
                except InputError:  # no descriptor at all: the file comparison below names what is missing
                    alone = PackageCheck(target, dataset, publication.package_version)
            if alone.failed:
                failures.append(f"{label}: {alone.failed}")
                continue
            problems += [f"{label}: {p}" for p in alone.problems]
            if not alone.files_checked:  # its extract did not lead to its entry: hold the files to the log's
                problems += [f"{label}: {p}" for p in file_problems(target, publication.files) if p not in alone.problems]
            if not alone.data_checked:  # its release was recorded before its extract: the log has its entry
                problem = _data_against_log(target, log, publication.release_id)
                if problem:
                    problems.append(f"{label}: {problem}")
        for folder, here in by_folder(root, publications).items():
            if folder in unfinished:
                continue
            if not index_is_current(folder, dataset, here):
                problems.append(f"{folder / 'index.json'} does not list exactly the versions the log published "
                                f"({', '.join(p.package_version for p in here)}, latest {here[-1].package_version})")
            listed = {p.package_version for p in here}
            for other in sorted(folder.iterdir()) if folder.is_dir() else []:
                if other.is_dir() and not other.name.startswith(".") and other.name not in listed:
                    problems.append(f"{other} is a folder the log never published as a version of {dataset}")
    problems += _strangers(root, log)
    return problems, pending, failures


# What the tool itself leaves at the top of a publication root besides the datasets' folders.
ROOT_FILES = {"data.json", ".audit-output"}


def _strangers(root: Path, log: ChangeLog) -> list[str]:
    """Everything at the top of a publication root (the workspace's published/, and every root the log published
    to) that the log does not account for: a dataset folder it never published (named, when it is, for the dataset
    it looks like), a hidden folder, any other file."""
    folders = {(root / p.path).parent for d in log.datasets() for p in log.publications(d)}
    roots = {f.parent for f in folders} | ({root / "published"} if (root / "published").is_dir() else set())
    known = sorted({f.name for f in folders} | set(log.datasets()))
    found = []
    for publication_root in sorted(r for r in roots if r.is_dir()):
        for path in sorted(publication_root.iterdir()):
            if path.is_dir() and not path.is_symlink() and (path in folders or path.name in log.datasets()):
                if path not in folders:  # a dataset with nothing published here: only a crash's hidden leftovers
                    found += [f"{entry} is not a version the log published" for entry in sorted(path.iterdir())
                              if not entry.name.startswith(".")]
                continue
            if path.name in ROOT_FILES and path.is_file():
                continue
            like = looks_like(path.name, known)
            found.append(f"{path} is not a dataset the log published"
                         + (f": its name looks like {like!r} (a look-alike, to be taken for it)" if like else ""))
    return found


def _data_against_log(target: Path, log: ChangeLog, release_id: str) -> str | None:
    """A package's data file against the release entry in the office's log (its extract began after it)."""
    import json

    release = log.release_by_id(release_id)
    if release is None:
        return f"the release it publishes, {release_id}, is not in the log"
    try:
        descriptor = json.loads((target / "datapackage.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # the file comparison names the descriptor
    entry = {"dataset": release.dataset, "definition": release.definition, "data_digest": release.data_digest}
    return data_file_problem(target, descriptor if isinstance(descriptor, dict) else {}, entry)
