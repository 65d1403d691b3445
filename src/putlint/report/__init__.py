"""Output formats: each module has one `render(run, out)`; SARIF and HTML also
take a `ReportContext` (the checks, the index, source links)."""

from functools import partial

from . import gcc, html, json_format, sarif, text
from .context import ReportContext

FORMATS = {"text": text.render, "json": json_format.render, "gcc": gcc.render, "sarif": sarif.render,
           "html": html.render}
CHECK_FORMATS = {
    "text": text.render_check,
    "json": json_format.render_check,
    "b4": json_format.render_b4,
    "gcc": gcc.render_check,
    "sarif": sarif.render_check,
    "html": html.render_check,
}
_WITH_CONTEXT = {"sarif", "html"}


def writer(output_format: str, context: ReportContext, check: bool = False):
    """`render(run, out)` of a format, for scan or (`check`) check-patch."""
    render = (CHECK_FORMATS if check else FORMATS)[output_format]
    return partial(render, context=context) if output_format in _WITH_CONTEXT else render
