"""Output formats: each module has one `render(run, out)`."""

from . import json_format, text

FORMATS = {"text": text.render, "json": json_format.render}
