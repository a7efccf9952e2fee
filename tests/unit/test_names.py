"""Display names keep what people type and lose what could pass for something else."""

import pytest

from peercall.names import clean_display_name


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("Ann", "Ann"),
        ("  Ann   Lee \n", "Ann Lee"),
        ("Ann\u202e denioj", "Ann denioj"),  # a right-to-left override
        ("\u2067Bob\u2069", "Bob"),  # a bidirectional isolate
        ("Zoe\u200b", "Zoe"),  # a zero-width space: a second "Zoe"
        ("Ma\u00adria", "Maria"),  # a soft hyphen
        ("line\nbreak\ttab", "line break tab"),
        ("x\x1b[31mred\x00", "x[31mred"),  # terminal escapes, NUL
        ("e\u0301lodie", "\u00e9lodie"),  # NFC: one "é" however typed
        ("👩\u200d💻 Dev", "👩\u200d💻 Dev"),  # the joiner of an emoji sequence stays
        (
            "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
            "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
        ),
        ("\u2066\u2069 \u200b", ""),
        ("", ""),
    ],
)
def test_a_display_name_is_cleaned(typed, shown):
    assert clean_display_name(typed) == shown
