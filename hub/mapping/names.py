"""A person's full name split into family and given names, the Chinese way (the family name
first, one character, or two for a compound surname). Joining the parts gives the full name
back exactly, so a conversion that splits and one that joins are inverses.

Used by the mapping language: ``convert = { from = "full-name", to = "family-name" }``
(or ``to = "given-name"``); hub/versions' 1.0 -> 2.0 conversion of MarriageRegistered.
"""

from __future__ import annotations

from collections.abc import Callable

from hub.errors import MappingError

FULL_NAME = "full-name"
PARTS = ("family-name", "given-name")
# The compound surnames of the Hundred Family Surnames still in use.
_COMPOUND_SURNAMES = (
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 令狐 司徒 夏侯 轩辕 长孙 宇文 端木 西门 "
    "南宫 独孤 万俟 闻人 澹台 公冶 宗政 濮阳 太叔 申屠 钟离 呼延 赫连 拓跋 百里 东郭"
)
_COMPOUND = frozenset(_COMPOUND_SURNAMES.split(" "))


def name_part(part: str) -> Callable[[str], str]:
    """The converter giving ``part`` (family-name or given-name) of a full name; ValueError
    for another part (a mapping-file error)."""
    if part not in PARTS:
        raise ValueError(f"a full-name converts to {' or '.join(PARTS)}, not {part!r}")
    index = PARTS.index(part)

    def convert(text: str) -> str:
        return split_name(text)[index]

    return convert


def split_name(full: str) -> tuple[str, str]:
    """(family, given); MappingError when nothing would be left for the given name."""
    cut = 2 if full[:2] in _COMPOUND and len(full) > 2 else 1
    family, given = full[:cut], full[cut:]
    if not given:
        raise MappingError("a name of one character has no given name to split off")
    return family, given
