"""Finality evidence: why a reported put may be the last one (DESIGN.md,
"Finality"), and the confidence that follows from it.

- `last-by-design`: the put drops a reference whose release is the object's
  end (a dentry's reference to its inode, dropped as the dentry dies), or a
  callee between the take and the put drops the object's other references
  (alias pruning, `d_invalidate`, ...);
- `last-if-others-leave`: the put balances a take in view, or a reference
  that might be held across it could not be shown to be held on every path:
  it is the last when the other holders leave in between;
- `unknown`: nothing says either way.

A finding's confidence is its check's (how sure the context's wait model
is), one step lower for `last-if-others-leave` (it needs a race).
"""

from __future__ import annotations

from dataclasses import dataclass

from .pickling import by_fields

BY_DESIGN = "last-by-design"
OTHERS_LEAVE = "last-if-others-leave"
UNKNOWN = "unknown"
KINDS = (BY_DESIGN, OTHERS_LEAVE, UNKNOWN)

CONFIDENCES = ("high", "medium", "low")  # highest first


@by_fields
@dataclass(frozen=True, slots=True)
class Evidence:
    """One fact behind a judgement: what the code (or a rule) at path:line says."""

    path: str
    line: int
    what: str

    def text(self) -> str:
        return f"{self.what} ({self.path}:{self.line})"


@by_fields
@dataclass(frozen=True, slots=True)
class Finality:
    kind: str = UNKNOWN
    evidence: tuple[Evidence, ...] = ()

    def confidence(self, check_confidence: str) -> str:
        """The confidence of a finding of a check with `check_confidence`."""
        if self.kind != OTHERS_LEAVE:
            return check_confidence
        return CONFIDENCES[min(CONFIDENCES.index(check_confidence) + 1, len(CONFIDENCES) - 1)]

    def summary(self) -> str:
        """One line: the kind and its evidence."""
        label = self.kind.replace("-", " ")
        if not self.evidence:
            return label
        return f"{label}: " + "; ".join(e.text() for e in self.evidence)


def at_least(confidence: str, minimum: str) -> bool:
    """Whether `confidence` is `minimum` or higher."""
    return CONFIDENCES.index(confidence) <= CONFIDENCES.index(minimum)
