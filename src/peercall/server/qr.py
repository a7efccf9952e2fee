"""QR codes of call links, so a phone can join by pointing its camera at a screen."""

from __future__ import annotations

import functools
import io

import segno


@functools.lru_cache(maxsize=256)  # ~2 KB each
def qr_svg(text: str) -> str:
    """A standalone SVG; medium error correction survives a glare or a smudge.
    Kept for the links asked for lately: making one takes ~5 ms of the event loop,
    which every signaling message waits out, and a page that is reloaded, or anyone
    with the link, asks again for the same one."""
    code = segno.make(text, error="m", micro=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", scale=6, border=4, dark="#000", light="#fff", xmldecl=False)
    return buffer.getvalue().decode()


def qr_terminal(text: str) -> str:
    """The code drawn with half-block characters (light modules as blocks: right on
    the usual dark terminal; phone cameras read the inverse too)."""
    code = segno.make(text, error="m", micro=False)
    lines: list[str] = []
    matrix = [list(row) for row in code.matrix_iter(scale=1, border=2)]
    # Two rows per line of text: upper and lower half blocks.
    for top, bottom in zip(matrix[0::2], [*matrix[1::2], [0] * len(matrix[0])], strict=True):
        line = ""
        for upper, lower in zip(top, bottom, strict=True):
            line += {(0, 0): "█", (1, 0): "▄", (0, 1): "▀", (1, 1): " "}[(upper, lower)]
        lines.append(line)
    return "\n".join(lines)
