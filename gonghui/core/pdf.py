"""The project's Chinese font for PDFs (fpdf2), shared by every module that prints a document.

`fonts/GonghuiSansSC-Regular.otf` is a GB 2312 subset of Noto Sans CJK SC (SIL OFL 1.1, see
`fonts/README.md`); fpdf2 subsets it again per document, so a PDF carries only the glyphs it uses."""

import logging
from functools import lru_cache
from pathlib import Path

from fontTools.ttLib import TTFont
from fpdf import FPDF

# fpdf2 subsets the font with fontTools, which logs every table it touches at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONT_FILE = Path(__file__).resolve().parent / "fonts" / "GonghuiSansSC-Regular.otf"
FONT = "GonghuiSans"


@lru_cache(maxsize=1)
def _codepoints() -> frozenset[int]:
    return frozenset(TTFont(str(FONT_FILE), lazy=True).getBestCmap())


def printable(text: str) -> str:
    """Characters the font lacks become □ instead of vanishing from the page."""
    points = _codepoints()
    return "".join(c if ord(c) in points or c in "\n\t" else "□" for c in text)


def add_cjk_font(pdf: FPDF) -> None:
    """Register the font under `FONT` on a document; call once before the first `set_font`."""
    pdf.add_font(FONT, fname=str(FONT_FILE))
