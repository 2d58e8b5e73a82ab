"""Rebuild `GonghuiSansSC-Regular.otf`: Noto Sans CJK SC Regular (SIL OFL 1.1) subset to
GB 2312 (6,763 hanzi and its symbols), ASCII, Latin-1 and the signs a report uses (μ ≤ ≥ ↑ ↓ ²).

The subset is renamed, as the OFL asks of a modified version. Run once on a machine with
Debian's fonts-noto-cjk:  python gonghui/core/fonts/build_font.py  — the result is committed,
so the application never depends on a system font."""

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
TARGET = Path(__file__).resolve().parent / "GonghuiSansSC-Regular.otf"
FAMILY = "Gonghui Sans SC"
EXTRA = "μµ≤≥≈±×÷↑↓→←·–—‘’“”…‰℃²³⁹¹⁰□①②③④⑤⑥⑦⑧⑨⑩、。，；：？！（）【】《》〈〉「」『』￥％＋－／＜＞＝～"


def characters() -> set[str]:
    chars = {chr(c) for c in range(0x20, 0x7F)} | {chr(c) for c in range(0xA0, 0x100)} | set(EXTRA)
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes([high, low]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


def main() -> int:
    font = next(f for f in TTCollection(str(SOURCE)).fonts if f["name"].getDebugName(1) == "Noto Sans CJK SC")
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(c) for c in characters()])
    subsetter.subset(font)
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (1, 4, 16):
            names.setName(
                FAMILY if record.nameID != 4 else FAMILY + " Regular",
                record.nameID,
                record.platformID,
                record.platEncID,
                record.langID,
            )
        elif record.nameID == 6:
            names.setName("GonghuiSansSC-Regular", 6, record.platformID, record.platEncID, record.langID)
        elif record.nameID == 3:
            names.setName(
                "GonghuiSansSC-Regular subset of NotoSansCJKsc-Regular 2.004",
                3,
                record.platformID,
                record.platEncID,
                record.langID,
            )
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = ["GonghuiSansSC-Regular"]
        top = cff.topDictIndex[0]
        top.FullName = FAMILY + " Regular"
        top.FamilyName = FAMILY
    font.save(str(TARGET))
    print(TARGET, TARGET.stat().st_size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
