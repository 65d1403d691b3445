"""Kernel knowledge as data: the YAML files of this folder, and the small
modules that read them (`apis` for the extractor, `layout` for the call
graph). Each file is part of the cache keys of the code that reads it (see
`putlint.fingerprints`)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml


@cache
def load(name: str) -> dict:
    """One data file of this folder, parsed once per process."""
    return yaml.safe_load(resources.files(__name__).joinpath(name).read_text("utf-8"))
