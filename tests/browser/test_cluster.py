"""Two browsers in one call, each on another peercall process sharing one Redis."""

from playwright.sync_api import expect

from tests.browser.test_call import assert_receives_video, join_call, start_call, status

TIMEOUT_MS = 30_000


def test_two_browsers_on_two_processes_see_each_other(cluster, new_page):
    host_server, guest_server, _ = cluster
    host, guest = new_page(), new_page(phone=True)
    link = start_call(host, host_server)
    # The same call through another process (as a load balancer would send them).
    join_call(guest, link.replace(host_server.url, guest_server.url))
    for page in (host, guest):
        expect(status(page)).to_have_text("Connected", timeout=TIMEOUT_MS)
    assert_receives_video(host)
    assert_receives_video(guest)
    guest.get_by_role("button", name="Hang up").click()
    expect(status(host)).to_contain_text("Everybody else left")
