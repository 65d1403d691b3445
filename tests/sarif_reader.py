"""A small SARIF reader for the round-trip tests: it turns putlint's SARIF log
back into findings shaped as the JSON report's, and checks the schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

_HERE = Path(__file__).parent
# CI has the shared folder beside the clone, read-only; elsewhere the copy under tests/data.
_SCHEMAS = (_HERE.parent.parent / "shared" / "data" / "sarif-schema-2.1.0.json", _HERE / "data" / "sarif-schema-2.1.0.json")
_SUPPRESSION_SOURCE = {"inSource": "comment", "external": "allowlist"}


def schema() -> dict:
    path = next(path for path in _SCHEMAS if path.is_file())
    return json.loads(path.read_text())


def validate(log: dict) -> None:
    jsonschema.Draft4Validator(schema()).validate(log)


def _hop(location: dict) -> dict:
    physical = location["location"]["physicalLocation"]
    return {
        "function": location["properties"]["function"],
        "path": physical["artifactLocation"]["uri"],
        "line": physical["region"]["startLine"],
        "via": location["properties"]["via"],
    }


def finding_of(result: dict, rules: list[dict]) -> dict:
    """A result as the JSON report's finding (without check-patch extras)."""
    if "ruleIndex" in result:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
    (flow,) = result["codeFlows"]
    flows = {thread["id"]: thread for thread in flow["threadFlows"]}
    assert list(flows) == ["reach", "teardown"]
    suppressions = result.get("suppressions", [])
    properties = result["properties"]
    fixed_by = {"fixed_by": properties["fixedBy"]} if "fixedBy" in properties else {}
    return fixed_by | {
        "rule": result["ruleId"],
        "context": properties["context"],
        "severity": result["level"],
        "confidence": properties["confidence"],
        "path": physical["artifactLocation"]["uri"],
        "line": physical["region"]["startLine"],
        "col": physical["region"]["startColumn"],
        "function": properties["function"],
        "put": properties["put"],
        "wait": properties["wait"],
        "reach": [_hop(location) for location in flows["reach"]["locations"]],
        "teardown": [_hop(location) for location in flows["teardown"]["locations"]],
        "fingerprint": result["partialFingerprints"]["putlintChains/v1"],
        "suppressed": bool(suppressions),
        "suppression": "".join(
            f"{_SUPPRESSION_SOURCE[s['kind']]}: {s['justification']}" for s in suppressions
        ),
        "message": result["message"]["text"],
        "finality": properties["finality"],
        "cycle": properties["cycle"],
    }


def findings(log: dict) -> list[dict]:
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    return [finding_of(result, rules) for result in run["results"]]
