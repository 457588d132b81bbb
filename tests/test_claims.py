"""Published claims: statements in reports and press releases, recomputed from the data."""

from __future__ import annotations

import json

import pytest
import yaml

from audit import pipeline
from audit.claims import parse_stated
from audit.errors import ConfigError
from tests.conftest import EXAMPLE, EXAMPLE_CSV, EXAMPLE_WAIVERS


def write_claims(workspace, claims: list[dict]) -> None:
    path = workspace.root / "datapackages" / EXAMPLE / "claims.yaml"
    path.write_text(yaml.safe_dump({"claims": claims}), encoding="utf-8")


def claim(id: str, stated, **computation) -> dict:
    return {"id": id, "statement": f"statement {id}", "stated": stated, **computation}


def test_bundled_example_reports_the_2019_rate_claim_unsupported(workspace, run):
    result = run("check", EXAMPLE, EXAMPLE_CSV, "--waivers", EXAMPLE_WAIVERS, "--format", "json")

    assert result.exit_code == 0  # an unsupported claim is a warning: the statement is wrong, not the data
    data = json.loads(result.output)
    rate = next(c for c in data["claims"] if c["id"] == "violent-crime-rate-2019")
    assert rate["supported"] is False and rate["stated"] == 2027.01
    assert round(rate["computed"], 2) == 1870.46
    finding = next(f for f in data["findings"] if f["check"] == "claim")
    assert finding["severity"] == "warning" and finding["key"] == {"claim": "violent-crime-rate-2019"}
    assert (finding["expected"], round(finding["observed"], 2)) == (2027.01, 1870.46)
    assert "1,870.46" in finding["message"] and "2,027.01" in finding["message"]


def test_each_kind_of_computation_supported_and_not(workspace):
    write_claims(workspace, [
        claim("rate-2017", "2,036.95", rate={"count": "violent_crime", "population": "population", "where": {"year": 2017}}),
        claim("homicides-2018", 308, value={"column": "homicide", "where": {"year": 2018}}),
        claim("homicides-2018-19", 656, value={"column": "homicide", "where": {"year": [2018, 2019]}}),
        claim("fewer-robberies", "186", difference={"column": "robbery", "from": {"year": 2020}, "to": {"year": 2021}}),
        claim("homicides-down", "-2.6%", percent_change={"column": "homicide", "from": {"year": 2017}, "to": {"year": 2022}}),
        claim("homicides-down-wrong", "-33%",
              percent_change={"column": "homicide", "from": {"year": 2017}, "to": {"year": 2022}}),
        claim("rate-2030", "100", rate={"count": "violent_crime", "population": "population", "where": {"year": 2030}}),
    ])

    report = pipeline.check(workspace, EXAMPLE, EXAMPLE_CSV)

    verdicts = {c.id: c.supported for c in report.claims}
    assert verdicts == {
        "rate-2017": True, "homicides-2018": True, "homicides-2018-19": True,
        "fewer-robberies": False, "homicides-down": True, "homicides-down-wrong": False, "rate-2030": False,
    }
    computed = {c.id: c.computed for c in report.claims}
    assert computed["homicides-2018-19"] == 656
    assert computed["fewer-robberies"] == 3232 - 3418  # robberies fell by 186: the claim got the sign wrong
    assert computed["homicides-down"] == pytest.approx((333 - 342) / 342 * 100)
    assert computed["rate-2030"] is None
    unsupported = sorted(f.key["claim"] for f in report.findings if f.check == "claim")
    assert unsupported == ["fewer-robberies", "homicides-down-wrong", "rate-2030"]
    missing = next(f for f in report.findings if f.key == {"claim": "rate-2030"})
    assert "not in the data" in missing.message


def test_a_claim_can_block_publication_when_the_office_says_so(workspace):
    write_claims(workspace, [{**claim("rate-2019", "2,027.01", rate={"count": "violent_crime", "population": "population",
                                                                      "where": {"year": 2019}}), "severity": "critical"}])

    report = pipeline.check(workspace, EXAMPLE, EXAMPLE_CSV)

    assert [(f.check, f.severity) for f in report.findings if f.check == "claim"] == [("claim", "error")]


@pytest.mark.parametrize("bad, message", [
    ([claim("x", 1)], "give exactly one of"),
    ([claim("x", 1, value={"column": "arrests"})], "no field 'arrests'"),
    ([claim("x", "about ten", value={"column": "homicide"})], "not a number as printed"),
    ([claim("x", 1, value={"column": "homicide"}), claim("x", 2, value={"column": "rape"})], "used twice"),
    ([claim("x", 1, percent_change={"column": "homicide", "from": {"year": 2017}})],
     "line 4, entry .claims.0.percent_change.: .to. is required here"),
])
def test_a_malformed_claims_file_is_a_config_error_naming_the_claim(workspace, bad, message):
    write_claims(workspace, bad)

    with pytest.raises(ConfigError, match=message):
        pipeline.check(workspace, EXAMPLE, EXAMPLE_CSV)


def test_stated_values_keep_the_precision_they_were_printed_with():
    assert parse_stated("2,027.01", "") == (2027.01, pytest.approx(0.005))
    assert parse_stated("-33%", "") == (-33.0, 0.5)
    assert parse_stated(1870.5, "") == (1870.5, pytest.approx(0.05))
    assert parse_stated("\u221214.5", "") == (-14.5, pytest.approx(0.05))
