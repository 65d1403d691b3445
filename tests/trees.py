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
