"""putlint: find final puts reachable from contexts whose teardown waits on them."""

__version__ = "0.1.0"
