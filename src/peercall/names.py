"""Display names as people see them: what someone typed, minus what could pass for
something else on another person's screen.

A name is shown as text, never as HTML, yet some characters still play tricks: a
right-to-left override (U+202E) turns "Ann joined" into "Ann denioj" and whatever
follows it backwards, zero-width characters make two names that look alike
different, and a newline starts what looks like another line of the chat. Those are
taken out; runs of whitespace become one space; the name is NFC-normalised, so that
"é" typed two ways is one name.
"""

from __future__ import annotations

import unicodedata

# Unicode categories dropped: controls (newlines, tabs, escapes), format characters
# (bidirectional overrides and isolates, zero-width joiners and spaces, soft hyphens),
# surrogates, private use and unassigned code points.
DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
# Format characters that writing needs: the zero-width non-joiner (Persian, Indic
# scripts) and joiner (emoji sequences such as 👩‍💻).
KEPT_FORMAT_CHARACTERS = frozenset("\u200c\u200d")


def clean_display_name(name: str) -> str:
    """`name` fit to show to others (see the module's docstring); "" if nothing is left."""
    normalized = unicodedata.normalize("NFC", name)
    kept = "".join(
        ch
        for ch in normalized
        if ch.isspace()
        or ch in KEPT_FORMAT_CHARACTERS
        or unicodedata.category(ch) not in DROPPED_CATEGORIES
    )
    return " ".join(kept.split())
