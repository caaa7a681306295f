"""Free text is plain text. What a person types ends up in e-mail headers, terminals and web
pages, so control characters are refused where text enters, never cleaned up later:

- `Line`: one line (names, titles, subjects, reasons): no control character at all;
- `Paragraphs`: several lines (message bodies, review texts, notes): line breaks and tabs, but
  no other control character.

Refused everywhere: C0 and C1 controls (NUL, ESC and the terminal escapes built on it, DEL),
bidirectional overrides and isolates (which make "txt.exe" read as "exe.txt"), line and
paragraph separators, and invisible characters (zero-width space, word joiner, BOM, tags)
that make two names look alike or hide text. The zero-width joiner stays: emoji need it.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

_ALWAYS_REFUSED = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 but tab, LF and CR; DEL; C1
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional marks, embeddings, isolates
    "\u2028\u2029"  # line and paragraph separators
    "\u200b\u2060\ufeff\u180e"  # invisible spaces and joiners that hide text or forge names
    "\U000e0000-\U000e007f"  # tag characters: text no one sees
)
_IN_PARAGRAPHS = re.compile(f"[{_ALWAYS_REFUSED}]")
_IN_A_LINE = re.compile(f"[{_ALWAYS_REFUSED}\t\n\r]")


def control_character_fault(text: str, *, multiline: bool) -> str | None:
    """Why `text` is not plain text, or None when it is."""
    found = (_IN_PARAGRAPHS if multiline else _IN_A_LINE).search(text)
    if found is None:
        return None
    return f"control character U+{ord(found.group()):04X} is not allowed in this text"


def _line(text: str) -> str:
    if fault := control_character_fault(text, multiline=False):
        raise ValueError(fault)
    return text


def _paragraphs(text: str) -> str:
    if fault := control_character_fault(text, multiline=True):
        raise ValueError(fault)
    return text


Line = Annotated[str, AfterValidator(_line)]
Paragraphs = Annotated[str, AfterValidator(_paragraphs)]
