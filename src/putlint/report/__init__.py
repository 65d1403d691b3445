"""Output formats: each module has one `render(run, out)`."""

from . import json_format, text

FORMATS = {"text": text.render, "json": json_format.render}
CHECK_FORMATS = {"text": text.render_check, "json": json_format.render_check, "b4": json_format.render_b4}
