"""Plain text: a `Line` holds no control character at all; `Paragraphs` allow line breaks and
tabs and nothing else of the kind. Both refuse bidirectional overrides."""

import pytest
from pydantic import TypeAdapter, ValidationError

from contracts.text import Line, Paragraphs, control_character_fault

LINE = TypeAdapter(Line)
PARAGRAPHS = TypeAdapter(Paragraphs)

REFUSED_EVERYWHERE = {
    "NUL": "a\x00b",
    "ESC (a terminal escape)": "red \x1b[31mtext",
    "DEL": "a\x7fb",
    "C1 control": "a\x85b",
    "right-to-left override": "invoice\u202etxt.exe",
    "left-to-right isolate": "a\u2066b",
    "line separator": "a\u2028b",
}
LINE_BREAKS = {"CR": "Bea\rBcc: all@example.com", "LF": "Bea\nBcc: x", "CRLF": "a\r\nb"}


@pytest.mark.parametrize("text", [*REFUSED_EVERYWHERE.values(), *LINE_BREAKS.values(), "a\tb"])
def test_a_line_refuses_every_control_character(text: str):
    with pytest.raises(ValidationError, match="control character U\\+"):
        LINE.validate_python(text)


@pytest.mark.parametrize("text", REFUSED_EVERYWHERE.values(), ids=REFUSED_EVERYWHERE.keys())
def test_paragraphs_refuse_control_characters_other_than_line_breaks(text: str):
    with pytest.raises(ValidationError, match="control character U\\+"):
        PARAGRAPHS.validate_python(text)


def test_paragraphs_keep_line_breaks_and_tabs():
    text = "Hello,\r\nthe parcel arrived damaged.\n\n\tPhotos attached."
    assert PARAGRAPHS.validate_python(text) == text


@pytest.mark.parametrize(
    "text", ["Film camera", "Zoë's Wörterbuch", "日本のカメラ", "שלום", "emoji 📷", ""]
)
def test_ordinary_text_in_any_script_is_accepted(text: str):
    assert LINE.validate_python(text) == text
    assert PARAGRAPHS.validate_python(text) == text


def test_the_fault_names_the_character_found():
    assert control_character_fault("a\x1bb", multiline=True) == (
        "control character U+001B is not allowed in this text"
    )
    assert control_character_fault("a\u202eb", multiline=False) is not None
    assert control_character_fault("a\nb", multiline=True) is None
    assert control_character_fault("a\nb", multiline=False) is not None


@pytest.mark.parametrize("hidden", ["\u200b", "\u2060", "\ufeff", "\u180e", "\U000e0041"])
def test_invisible_characters_that_make_names_look_alike_are_refused(hidden):
    assert control_character_fault(f"Sam{hidden}", multiline=False)
    assert control_character_fault(f"Sam{hidden}", multiline=True)


def test_emoji_joined_with_the_zero_width_joiner_are_text():
    assert (
        control_character_fault("\U0001f468\u200d\U0001f469\u200d\U0001f467", multiline=False)
        is None
    )
