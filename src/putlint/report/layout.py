"""Where the boxes and arrows of a chain picture go (templates/chain.svg.j2
draws them): the reach chain top-down in the left column, the teardown chain
in the right one, and an elbow from the put call to the put's definition.

Sizes are in SVG user units (CSS pixels at 100%); text is monospace, so a
label's width is known from its length and long ones are cut with an ellipsis
(the whole text stays in the box's tooltip).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..findings import Finding
from .chains import Step, steps

BOX_WIDTH = 300
BOX_HEIGHT = 42
GAP = 30  # between two boxes of a column: room for the arrow and its label
COLUMN = 560  # from one column's left edge to the next one's
MARGIN = 12  # every coordinate is a whole number: shorter markup
CHAR = 7.3  # width of a 12px monospace character
NAME_CHARS = int((BOX_WIDTH - 16) / 7.9)  # 13px bold names
LABEL_CHARS = int((COLUMN - BOX_WIDTH / 2 - 48) / CHAR)  # stops short of the elbow


@dataclass(frozen=True, slots=True)
class Box:
    x: float
    y: float
    step: Step
    name: str  # cut to fit
    where: str  # "path:line", cut to fit
    href: str
    tooltip: str

    @property
    def role(self) -> str:
        return self.step.role


@dataclass(frozen=True, slots=True)
class Arrow:
    path: str  # SVG path data
    label: str  # cut to fit
    label_x: float
    label_y: float
    tooltip: str


@dataclass(frozen=True, slots=True)
class Picture:
    width: float
    height: float
    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]
    title: str


def cut(text: str, chars: int) -> str:
    return text if len(text) <= chars else text[: max(chars - 1, 1)] + "…"


def picture(finding: Finding, link) -> Picture:
    """The two chains of `finding`; `link(path, line)` is a hop's URL."""
    reach, teardown = steps(finding)
    boxes: list[Box] = []
    arrows: list[Arrow] = []
    for column, chain in enumerate((reach, teardown)):
        x = MARGIN + column * COLUMN
        for index, step in enumerate(chain):
            y = MARGIN + index * (BOX_HEIGHT + GAP)
            boxes.append(_box(x, y, step, link))
            if index:
                arrows.append(_down(x, y, step))
    if reach and teardown:
        arrows.append(_elbow(len(reach) - 1))
    rows = max(len(reach), len(teardown), 1)
    return Picture(
        width=MARGIN * 2 + COLUMN + BOX_WIDTH // 2 + 8 + int(LABEL_CHARS * CHAR),
        height=MARGIN * 2 + rows * BOX_HEIGHT + (rows - 1) * GAP,
        boxes=tuple(boxes),
        arrows=tuple(arrows),
        title=f"reach: {' -> '.join(h.function for h in finding.reach)}; "
        f"teardown: {' -> '.join(h.function for h in finding.teardown)}",
    )


def _box(x: float, y: float, step: Step, link) -> Box:
    hop = step.hop
    where = f"{hop.path}:{hop.line}"
    site = "def" if step.site == "definition" else "call"
    return Box(
        x, y, step,
        name=cut(hop.function, NAME_CHARS),
        where=cut(f"{where} · {site}", int((BOX_WIDTH - 16) / 6.6)),
        href=link(hop.path, hop.line),
        tooltip=f"{hop.function}\n{where}: {step.describe()}\n[{hop.via}]",
    )


def _down(x: float, y: float, step: Step) -> Arrow:
    """From the box above to this one, labelled with how this hop was reached."""
    middle = x + BOX_WIDTH // 2
    top = y - GAP
    label = step.how().removeprefix("wait: ")
    if step.role == "wait":
        label = "wait: " + label
    return Arrow(
        path=f"M{middle},{top} L{middle},{y - 2}",
        label=cut(label, LABEL_CHARS),
        label_x=middle + 8,
        label_y=top + GAP // 2 + 4,
        tooltip=step.how(),
    )


def _elbow(put_row: int) -> Arrow:
    """From the put call (last reach box) to the put's definition (first teardown box)."""
    start_x = MARGIN + BOX_WIDTH
    start_y = MARGIN + put_row * (BOX_HEIGHT + GAP) + BOX_HEIGHT // 2
    end_x = MARGIN + COLUMN - 2
    end_y = MARGIN + BOX_HEIGHT // 2
    bend = end_x - 16
    if put_row == 0:
        path = f"M{start_x},{start_y} L{end_x},{end_y}"
    else:
        path = f"M{start_x},{start_y} L{bend},{start_y} L{bend},{end_y} L{end_x},{end_y}"
    return Arrow(path, "drops the reference", start_x + 8, start_y - 6, "the put call starts the teardown")
