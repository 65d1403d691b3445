"""Pickling of the slotted frozen dataclasses that caches and worker results
hold: as a call of the class with its fields. The default `__setstate__` of a
slotted dataclass looks up `dataclasses.fields()` for every object it
restores, which made unpickling a saved set of site readings cost more than
parsing the files again."""

from __future__ import annotations

import dataclasses


def by_fields(cls):
    """Class decorator (outermost, over `@dataclass(frozen=True, slots=True)`)."""
    names = tuple(f.name for f in dataclasses.fields(cls) if f.init)
    if len(names) != len(dataclasses.fields(cls)):
        raise TypeError(f"{cls.__name__} has fields its constructor does not take")

    def __reduce__(self):
        return cls, tuple(getattr(self, name) for name in names)

    cls.__reduce__ = __reduce__
    return cls
