"""The page over `peercall serve --https`, and the QR code a phone scans to join."""

import io

import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.browser.test_call import assert_receives_video, join_call, start_call, status
from tests.servers import ServerProcess


def test_over_https_a_phone_joins_from_the_qr_code(tmp_path, new_page):
    server = ServerProcess(tmp_path / "data", https=True).start()
    try:
        host = new_page(self_signed_ok=True)
        link = start_call(host, server)
        assert link.startswith("https://")
        code = host.get_by_role("img", name="QR code of the call link")
        expect(code).to_be_visible()
        host.wait_for_function(
            "() => document.getElementById('call-qr').complete"
            " && document.getElementById('call-qr').naturalWidth > 0",
            polling=200,
        )
        picture = Image.open(io.BytesIO(code.screenshot()))
        scanned = [result.text for result in zxingcpp.read_barcodes(picture)]
        assert scanned == [link]

        phone = new_page(phone=True, self_signed_ok=True)
        join_call(phone, scanned[0])
        expect(status(phone)).to_have_text("Connected", timeout=20_000)
        expect(status(host)).to_have_text("Connected", timeout=20_000)
        assert_receives_video(phone)
        assert phone.evaluate("window.isSecureContext")
    finally:
        server.stop()
