"""Packages and office files read strictly: what two readers could read two ways, or what nothing signed covers, is
refused or reported, never silently read one way."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from audit import pipeline
from audit.errors import ConfigError
from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, PROJECT, copy_of_built


@pytest.fixture
def published(built_workspaces, tmp_path_factory, workspace, tmp_path):
    """The example published once, signed (built once, copied for each test), and a copy of its package to
    alter."""
    workspace = copy_of_built(built_workspaces, tmp_path_factory, workspace, "example-signed", _publish_signed)
    copy = tmp_path / "copy"
    shutil.copytree(workspace.publish_root / EXAMPLE / "1.0.0", copy)
    return workspace, copy


def _publish_signed(workspace):
    from click.testing import CliRunner

    from audit.cli import cli

    assert CliRunner().invoke(cli, ["keygen", str(workspace.root / "keys" / "office.pem")]).exit_code == 0
    (workspace.root / "audit.yaml").write_text("signing_key: keys/office.pem\n")
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")
    assert pipeline.publish(workspace, EXAMPLE).path == workspace.publish_root / EXAMPLE / "1.0.0"


def cli(*args):
    from click.testing import CliRunner

    from audit.cli import cli as command

    return CliRunner().invoke(command, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize("field, value, said", [
    ("note", "approved by the commissioner", "holds what the tool never writes there (note)"),
    ("version", "2.0.0", "names baltimore-violent-crime version 2.0.0"),
])
def test_a_head_file_altered_where_no_signature_covers_it_is_reported(published, field, value, said):
    _, package = published
    head = json.loads((package / "changelog-head.json").read_text())
    head[field] = value
    (package / "changelog-head.json").write_text(json.dumps(head))

    result = cli("verify", "--package", package)

    assert result.exit_code == 1 and said in result.output


def test_an_extract_line_with_a_key_given_twice_is_refused(published):
    """Python keeps the last of two keys, other readers the first: the same line would say two things."""
    _, package = published
    lines = (package / "changelog.jsonl").read_text().splitlines()
    lines[0] = lines[0][:-1] + ', "dataset": "another-dataset"}'
    (package / "changelog.jsonl").write_text("\n".join(lines) + "\n")

    result = cli("verify", "--package", package)

    assert result.exit_code == 1 and "line 1 is not JSON as the tool writes it" in result.output
    assert "given twice" in result.output


def test_a_stray_file_beside_the_logs_copies_is_reported(published):
    workspace, _ = published
    folder = workspace.root / "audit.duckdb.data"
    folder.mkdir(exist_ok=True)
    (folder / "2020-homicides.csv").write_text("year,homicide\n2020,300\n")

    result = cli("verify", "--workspace", workspace.root)

    assert result.exit_code == 1 and "audit.duckdb.data/2020-homicides.csv is beside the log's copies" in result.output


@pytest.mark.parametrize("path", ["README.md", "changelog-head.json", "data/violent-crime.txt"])
def test_a_data_resource_that_names_no_data_file_is_not_published(workspace, path):
    descriptor_path = workspace.root / "datapackages" / EXAMPLE / "datapackage.yaml"
    descriptor = yaml.safe_load(descriptor_path.read_text())
    descriptor["resources"][0]["path"] = path
    descriptor_path.write_text(yaml.safe_dump(descriptor))
    pipeline.ingest(workspace, EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS, "2023-09")

    result = cli("publish", EXAMPLE, "--workspace", workspace.root)

    assert result.exit_code == 2 and "a data path of its own for resource" in result.output
    assert not (workspace.root / "published" / EXAMPLE / "1.0.0").exists()


@pytest.mark.parametrize("file, text, said", [
    ("audit.yaml", "recorded_by: Records Unit\nrecorded_by: Someone Else\n",
     "line 2: the key 'recorded_by' is given twice in one mapping (first on line 1)"),
    ("waivers.yaml", "waivers:\n  - {check: category-sum, key: {year: 2021, year: 2022}, reason: r, approved_by: a}\n",
     "the key 'year' is given twice"),
    ("notes.yaml", "notes:\n  - id: n\n    where: {year: 2020}\n    where: {year: 2019}\n    reason: r\n"
                   "    approved_by: a\n", "line 4: the key 'where' is given twice"),
])
def test_an_office_file_that_gives_a_key_twice_is_refused_with_its_line(workspace, tmp_path, file, text, said):
    path = workspace.root / file if file == "audit.yaml" else tmp_path / file
    path.write_text(text)
    extra = {"waivers.yaml": ["--waivers", path], "notes.yaml": ["--notes", path]}.get(file, [])

    result = cli("check", EXAMPLE, EXAMPLE_CSV, *extra, "--workspace", workspace.root)

    assert result.exit_code == 2 and said in result.output, result.output
    assert str(path) in result.output
    assert not (workspace.root / "audit.duckdb").exists()


def test_a_long_plain_file_is_only_long_and_an_alias_bomb_is_still_refused(tmp_path, monkeypatch):
    """The limit on expanded values, scaled down: a plain file past it is read; aliases that multiply a few values
    past it are refused."""
    import audit.yamlfile as yamlfile

    monkeypatch.setattr(yamlfile, "MAX_EXPANDED_NODES", 1_000)
    plain, bomb = tmp_path / "plain.yaml", tmp_path / "bomb.yaml"
    plain.write_text("waivers:\n" + "".join(f"  - {{check: category-sum, key: {{year: {i}}}, reason: r, approved_by: a}}\n"
                                           for i in range(300)))
    bomb.write_text("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                    "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n")

    assert len(yamlfile.read_yaml_nodes(plain)[0]["waivers"]) == 300
    with pytest.raises(ConfigError, match="alias bomb"):
        yamlfile.read_yaml_nodes(bomb)


def test_the_projects_own_office_files_have_no_key_twice():
    from audit.yamlfile import read_yaml_nodes

    for path in [PROJECT / "audit.yaml", *PROJECT.glob("datapackages/*/*.yaml")]:
        read_yaml_nodes(path)


def test_a_published_folder_the_log_never_published_is_reported_and_a_look_alike_named(published):
    workspace, package = published
    look_alike = workspace.root / "published" / "baltimore-vi\u043elent-crime"  # a Cyrillic о
    shutil.copytree(workspace.root / "published" / EXAMPLE, look_alike)
    (workspace.root / "published" / ".hidden").mkdir()

    result = cli("verify", "--workspace", workspace.root)

    assert result.exit_code == 1
    assert "its name looks like 'baltimore-violent-crime' (a look-alike, to be taken for it)" in result.output
    assert "published/.hidden is not a dataset the log published" in result.output


@pytest.mark.parametrize("value", ["-5", "0", "lots", "'-2GB'"])
def test_a_memory_limit_that_is_no_positive_size_is_refused(workspace, value):
    (workspace.root / "audit.yaml").write_text(f"memory_limit: {value}\n")

    result = cli("check", EXAMPLE, EXAMPLE_CSV, "--workspace", workspace.root)

    assert result.exit_code == 2 and "memory_limit" in result.output and len(result.output.strip().splitlines()) == 1


def test_a_waiver_naming_a_field_the_dataset_lacks_is_refused_with_the_nearest_name(workspace, tmp_path):
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers:\n  - {check: category-sum, key: {yaer: 2021}, reason: r, approved_by: a}\n")

    result = cli("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", waivers, "--workspace", workspace.root)

    assert result.exit_code == 2, result.output
    assert f"{waivers}: waiver 1: its key names 'yaer', which is no field of {EXAMPLE}; did you mean 'year'?" \
        in result.output
    assert not (workspace.root / "audit.duckdb").exists()


def test_labels_that_differ_only_in_unicode_form_are_one_label(workspace):
    revised = PROJECT / "datapackages" / EXAMPLE / "releases" / "2024-03-revised-example.csv"
    assert cli("ingest", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--version", "v1",
               "--workspace", workspace.root).exit_code == 0

    result = cli("ingest", EXAMPLE, revised, "--version", "\uff56\uff11", "--workspace", workspace.root)  # fullwidth

    assert result.exit_code == 2 and "already has a release 'v1'" in result.output, result.output
