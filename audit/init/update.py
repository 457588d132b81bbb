"""`audit init --update`: a dataset's descriptor and suite brought up to a release whose columns changed, keeping
every edit the office made to them.

    release file -> read as ingest reads it (audit.ingest.columns: what it adds, lacks, renamed)
                 -> descriptor: a field per added column (typed as `audit init` types it, its description a TODO),
                    the fields with no column taken out, each renamed column an alias of its field
                 -> suite: the expectations that read a field taken out, taken out

The descriptor is edited as YAML in place (ruamel.yaml's round trip keeps the office's comments, order and
quoting; PyYAML would drop them) and is checked as a descriptor before it replaces the old one.
"""

from __future__ import annotations

import io
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from audit.dataset import Dataset, Field
from audit.errors import ConfigError
from audit.files import write_atomically
from audit.ingest import load_release
from audit.workspace import Workspace


@dataclass
class UpdateResult:
    descriptor_path: Path
    suite_path: Path
    added: list[Field] = field(default_factory=list)        # fields for the columns the release added
    removed: list[str] = field(default_factory=list)         # fields the release has no column for
    aliased: dict[str, tuple[str, str]] = field(default_factory=dict)  # field -> (header it is now also read from,
    #                                                                           why it was taken for the field)
    dropped: list[str] = field(default_factory=list)         # the suite's expectations taken out, each described
    narrowed: list[str] = field(default_factory=list)        # those that go on checking their other columns

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.aliased)


def update_dataset(workspace: Workspace, name: str, file: str | Path) -> UpdateResult:
    """Bring dataset `name`'s descriptor and suite up to the columns of `file`; write nothing if they match."""
    from ruamel.yaml import YAML

    from audit.validate.suite import entries_reading, load_suite_json

    dataset = workspace.dataset(name)
    with workspace.work_database() as con:
        loaded = load_release(con, dataset, file)
    match = loaded.columns
    described = {f.name for f in dataset.fields}
    result = UpdateResult(dataset.descriptor_path, dataset.suite_path,
                          [f for f in loaded.dataset.fields if f.name not in described], list(match.removed),
                          dict(match.renamed))
    if not result.changed:
        return result

    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 120
    document = yaml.load(dataset.descriptor_path.read_text(encoding="utf-8"))
    fields = document["resources"][0]["schema"]["fields"]
    for index in reversed(range(len(fields))):
        if fields[index]["name"] in result.removed:
            del fields[index]
    for kept in fields:
        header, _ = result.aliased.get(kept["name"], (None, None))
        if header is not None:
            if "aliases" not in kept:
                kept["aliases"] = []
            kept["aliases"].append(header)
    for f in result.added:
        header = f.descriptor["title"]
        fields.append({**f.descriptor, "description": f"TODO: what {header!r} holds and how it is counted (added by "
                                                      f"`audit init --update` from {Path(file).name})."})
    text = io.StringIO()
    yaml.dump(document, text)

    suite = load_suite_json(dataset.suite_path)
    shown = dataset.suite_path.relative_to(dataset.suite_path.parent.parent).as_posix()
    reading = entries_reading(shown, suite["expectations"], set(result.removed))
    kept = []
    for index, entry in enumerate(suite["expectations"]):
        found = reading.get(index)
        if found is None:
            kept.append(entry)
            continue
        what = f"{shown}, expectation {index + 1} ({entry.get('type')})"
        if found.without is not None:  # a check of each of its columns: it goes on checking the others
            kept.append(found.without)
            result.narrowed.append(f"{what} no longer reads {', '.join(map(repr, found.columns))}")
        else:
            result.dropped.append(f"{what}, which reads {', '.join(map(repr, found.columns))}")
    suite["expectations"] = kept

    _require_valid(name, text.getvalue(), dataset)
    write_atomically(dataset.descriptor_path, text.getvalue())
    write_atomically(dataset.suite_path, json.dumps(suite, indent=2, ensure_ascii=False) + "\n")
    return result


def _require_valid(name: str, descriptor: str, dataset: Dataset) -> None:
    """The updated descriptor, checked as every descriptor is before it replaces the office's (a field taken out
    that another part of it names, such as `temporal`, is a ConfigError naming it)."""
    with tempfile.TemporaryDirectory(prefix="audit-update-") as work:
        trial = Path(work) / dataset.descriptor_path.name
        trial.write_text(descriptor, encoding="utf-8")
        try:
            Dataset.load(name, trial, dataset.suite_path)
        except ConfigError as exc:
            raise ConfigError(f"{dataset.descriptor_path}: updated to the release's columns, it would not be a valid "
                              f"descriptor, so it was left as it is: {str(exc).removeprefix(str(trial) + ': ')}") from exc
