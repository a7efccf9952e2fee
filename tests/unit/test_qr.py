"""QR codes decode to the link they were made from (decoded by zxing-cpp)."""

import zxingcpp
from PIL import Image

from peercall.server.qr import qr_svg, qr_terminal

LINK = "https://192.168.1.20:8443/c/Dh1Yh4Xpd27cHVxtnms_fg"
PIXELS_PER_MODULE = 8


def decode(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


def test_the_terminal_code_scans_as_the_link():
    # Each character is one module wide and two tall: upper and lower half.
    halves = {"█": (1, 1), "▀": (1, 0), "▄": (0, 1), " ": (0, 0)}  # 1 = light
    lines = qr_terminal(LINK).splitlines()
    width, height = len(lines[0]), len(lines) * 2
    image = Image.new("L", (width, height))
    for y, line in enumerate(lines):
        for x, char in enumerate(line):
            upper, lower = halves[char]
            image.putpixel((x, 2 * y), 255 * upper)
            image.putpixel((x, 2 * y + 1), 255 * lower)
    big = image.resize((width * PIXELS_PER_MODULE, height * PIXELS_PER_MODULE), Image.NEAREST)
    assert decode(big) == [LINK]


def test_the_svg_is_a_standalone_image_of_the_link():
    svg = qr_svg(LINK)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert LINK not in svg  # the link is in the picture, not in the markup
