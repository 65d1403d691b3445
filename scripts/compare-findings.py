#!/usr/bin/env python3
"""Compare two `putlint scan --format json` reports finding by finding.

    scripts/compare-findings.py BEFORE.json AFTER.json [--stats]

A finding is keyed by its fingerprint; two reports agree when they hold the
same fingerprints and, for each, the same rule, site and both chains hop for
hop (function, path, line, via). With --stats the per-context statistics must
agree too (timings are ignored). Exit 0 when they agree, 1 with the
differences listed, 2 when a report cannot be read.
"""

from __future__ import annotations

import json
import sys

_SITE = ("rule", "context", "severity", "confidence", "path", "line", "col", "function", "put", "wait", "message")


def _load(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError) as error:
        print(f"compare-findings: cannot read {path}: {error}", file=sys.stderr)
        sys.exit(2)


def _hops(hops: list[dict]) -> list[tuple]:
    return [(h["function"], h["path"], h["line"], h["via"]) for h in hops]


def differences(before: dict, after: dict, stats: bool = False) -> list[str]:
    old = {f["fingerprint"]: f for f in before["findings"]}
    new = {f["fingerprint"]: f for f in after["findings"]}
    lines = [f"gone: {old[k]['path']}:{old[k]['line']} {old[k]['rule']} ({k})" for k in sorted(old.keys() - new.keys())]
    lines += [f"came: {new[k]['path']}:{new[k]['line']} {new[k]['rule']} ({k})" for k in sorted(new.keys() - old.keys())]
    for key in sorted(old.keys() & new.keys()):
        a, b = old[key], new[key]
        for name in _SITE:
            if a.get(name) != b.get(name):
                lines.append(f"changed {key} {name}: {a.get(name)!r} -> {b.get(name)!r}")
        for chain in ("reach", "teardown"):
            if _hops(a[chain]) != _hops(b[chain]):
                lines.append(f"changed {key} {chain}: {_hops(a[chain])} -> {_hops(b[chain])}")
    if stats:
        a_contexts = before.get("stats", {}).get("contexts", {})
        b_contexts = after.get("stats", {}).get("contexts", {})
        for context in sorted(a_contexts.keys() | b_contexts.keys()):
            if a_contexts.get(context) != b_contexts.get(context):
                lines.append(f"stats {context}: {a_contexts.get(context)} -> {b_contexts.get(context)}")
    return lines


def main(argv: list[str]) -> int:
    paths = [a for a in argv if not a.startswith("--")]
    if len(paths) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    lines = differences(_load(paths[0]), _load(paths[1]), "--stats" in argv)
    for line in lines:
        print(line)
    print(f"{'differ' if lines else 'agree'}: {len(lines)} difference(s)")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
