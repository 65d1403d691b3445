"""The rule fixtures laid out once per test session: `RULES` is the layered
directory (`base/` plus `<check-id>/<case>/`), `TREE` the miniature kernel
they make together, for the tests that scan or patch it."""

import atexit
from pathlib import Path

from putlint.ruletest import laid_out

FIXTURES = Path(__file__).parent / "fixtures"
RULES = FIXTURES / "rules"

_layout = laid_out(RULES)
TREE, _OWNERS = _layout.__enter__()
atexit.register(_layout.__exit__, None, None, None)

RULE_FILES = Path(__file__).parent.parent / "rules"


def rule_line(name: str, key: str, index: int = 0) -> int:
    """The line of item `index` under top-level `key` in rules/NAME (as evidence cites it)."""
    lines = (RULE_FILES / name).read_text().splitlines()
    start = lines.index(f"{key}:")
    items = [number for number, line in enumerate(lines[start + 1:], start + 2) if line.startswith("  - ")]
    return items[index]
