"""Server-rendered SVG bar charts: no script, no CDN, no inline style (the CSP allows neither);
geometry is given by SVG presentation attributes. Each chart goes with a data table."""

from dataclasses import dataclass


@dataclass
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float
    label_x: float


def bars(rows: list[tuple[str, int]], *, width: int = 720, height: int = 200, gap: int = 2) -> dict:
    """Vertical bars for (label, value) rows, scaled to the largest value."""
    top = max((v for _, v in rows), default=0) or 1
    slot = width / max(len(rows), 1)
    out = []
    for i, (label, value) in enumerate(rows):
        h = round(height * value / top, 1)
        x = round(i * slot + gap / 2, 1)
        out.append(Bar(label=label, value=value, x=x, y=round(height - h, 1), width=round(slot - gap, 1), height=h,
                       label_x=round(x + (slot - gap) / 2, 1)))
    return {"bars": out, "width": width, "height": height, "max": top, "view_height": height + 24}
