"""What the SARIF and HTML formats need beyond the run itself: the checks that
ran (their descriptions become SARIF rules and HTML help), where the index is
(for parse notes), and how to link a hop to its source."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import __version__
from ..ruleset import Check, Context, RuleSet


@dataclass(frozen=True)
class ReportContext:
    checks: tuple[Check, ...] = ()  # sorted by id
    contexts: dict[str, Context] = field(default_factory=dict)
    index_file: Path | None = None  # for parse notes; None leaves them out
    graph_scopes: tuple[str, ...] = ("",)
    source_url: str = ""  # "https://.../{path}#L{line}"; "" links to the file in the tree
    version: str = __version__

    @classmethod
    def of(cls, rules: RuleSet | None, **more) -> ReportContext:
        """The context of a run with `rules`; a bad `source_url` is an input error now, not after the scan."""
        if more.get("source_url"):
            from .html import check_source_url

            check_source_url(more["source_url"])
        if rules is None:
            return cls(**more)
        return cls(tuple(sorted(rules.checks.values(), key=lambda c: c.id)), dict(rules.contexts), **more)
