"""`govhub tracker PERSON --pdf FILE`: the operator's view as a PDF (fpdf2), one row per
entry. Purposes are often Chinese: the first CJK font found on the machine is embedded
(subset); without one, DejaVu Sans, else Helvetica with what it cannot draw as '?'."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import FontFace

from hub.tracker.trail import TrailEntry

# Where Debian and most distributions put a font that draws Chinese, then one that draws
# the rest of Unicode.
FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
)
# fontTools says which tables of the font it leaves out of the subset (a bitmap table of the
# CJK font): nothing an operator can act on.
logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
_COLUMNS = ("When (UTC)", "What", "Who", "Reached", "Purpose or reason", "Fields")
_WIDTHS = (34, 34, 36, 62, 62, 49)


def write_pdf(
    path: Path, subject: str, entries: Sequence[TrailEntry], *, printed_at: datetime
) -> None:
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_title(f"Data usage of {subject}")
    pdf.set_auto_page_break(auto=True, margin=12)
    family = _font(pdf)
    pdf.add_page()
    pdf.set_font(family, size=14)
    pdf.cell(text=f"Data usage of {subject}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, size=9)
    pdf.cell(
        text=f"{len(entries)} entries, printed {printed_at:%Y-%m-%d %H:%M} UTC by the hub's "
        "data tracker (operator view: confidential entries are marked).",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(2)
    pdf.set_font(family, size=7)
    # One embedded face (no bold of it): headings stand out by their shading.
    headings = FontFace(emphasis="", fill_color=(225, 225, 225))
    with pdf.table(
        col_widths=_WIDTHS, text_align="LEFT", line_height=3.6, headings_style=headings
    ) as table:
        table.row([_drawable(family, text) for text in _COLUMNS])
        for entry in entries:
            table.row([_drawable(family, text) for text in _cells(entry)])
    pdf.output(str(path))


def _cells(entry: TrailEntry) -> tuple[str, ...]:
    reached = "; ".join(
        f"{leg.department} {leg.state}" + (f" {leg.at:%Y-%m-%d %H:%M}" if leg.at else "")
        for leg in entry.legs
    )
    purpose = entry.purpose
    for exemption in entry.confidential:
        purpose += (
            f" [CONFIDENTIAL {exemption.department} until {exemption.until:%Y-%m-%d}: "
            f"{exemption.reason}]"
        )
    what = f"{entry.kind}: {entry.what}" + (" (body pruned)" if entry.pruned else "")
    return (
        f"{entry.at:%Y-%m-%d %H:%M:%S}",
        f"{what}\n{entry.reference}",
        entry.actor,
        reached,
        purpose,
        ", ".join(entry.fields),
    )


def _font(pdf: FPDF) -> str:
    for candidate in FONT_CANDIDATES:
        if candidate.exists():
            pdf.add_font("tracker", fname=str(candidate))
            return "tracker"
    return "Helvetica"


def _drawable(family: str, text: str) -> str:
    """Helvetica draws Latin-1 only."""
    if family != "Helvetica":
        return text
    return text.encode("latin-1", "replace").decode("latin-1")
