"""The call graph, built from index facts without a compiler.

Functions are keyed by (file, name): statics and `#ifdef` alternatives of one
file are one node, the 200 static `foo_release`s of different files stay
apart. Edges are resolved lazily, when a search first expands a function:
direct calls static-first, then global, then `static inline` in headers;
member calls through (struct type, field) using member types, ops
initializers and runtime assignments, with a field-name fallback under a
fan-out cap; callbacks passed as arguments. Registrations are never edges.

`Program` (program.py) is the whole; its parts are the definitions and
linking (symbols.py), member types and ops targets (ops.py), bodies read per
file on demand (bodies.py) and edge resolution (resolver.py).
"""

from ..kernel.layout import subsystem_of
from .ops import MEMBER_PATH
from .program import Program
from .resolver import CALL, CALLBACK, MEMBER, POINTER_VAR, Cut, Edge

__all__ = ["CALL", "CALLBACK", "MEMBER", "MEMBER_PATH", "POINTER_VAR", "Cut", "Edge", "Program", "subsystem_of"]
