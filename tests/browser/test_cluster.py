"""Two browsers in one call, each on another peercall process sharing one Redis."""

import time

from playwright.sync_api import expect

from tests.browser.test_call import assert_receives_video, join_call, start_call, status
from tests.browser.test_reconnect import LOST
from tests.scaleout.test_clients_across_servers import members_served_by

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


def test_pages_whose_server_died_during_a_redis_outage_resume_once_it_is_back(
    cluster, balancer, redis_server, new_page
):
    first, second = new_page(), new_page(phone=True)
    link = start_call(first, balancer)
    join_call(second, link)
    for page in (first, second):
        expect(status(page)).to_have_text("Connected", timeout=TIMEOUT_MS)

    redis_server.stop()
    for server in [server for server in cluster if members_served_by(server) > 0]:
        server.kill()  # the pages' servers: both pages must come back elsewhere
    for page in (first, second):
        expect(status(page)).to_have_text(LOST)
    # Longer than the servers' Redis client tries (~5 s): each resume meanwhile is
    # put off (storage-unavailable, then a 1013 close) and tried again later.
    time.sleep(8)
    assert_receives_video(first)  # peer to peer: the media needs neither
    assert_receives_video(second)

    redis_server.start()
    for page in (first, second):
        expect(status(page)).to_have_text("Connected", timeout=TIMEOUT_MS)
    # Signaling works again, for the same two people: a hang-up reaches the other.
    second.get_by_role("button", name="Hang up").click()
    expect(status(first)).to_contain_text("Everybody else left")
