"""The analysis kinds, one module each, in the order they run (as smatch's
check_list.h). A rule file in `rules/checks/` names its kind (default
`final-put`); each module has a `KIND`, a docstring that documents it, and
`findings(analysis, context, checks, in_scope)`."""

from __future__ import annotations

from . import final_put

ALL_CHECKS = (final_put,)

BY_KIND = {module.KIND: module for module in ALL_CHECKS}
