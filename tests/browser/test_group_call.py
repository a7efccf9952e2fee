"""Group calls in real browsers: a tile per person, names, people coming and going
without disturbing the others, and the uplink shared between them."""

import re

from playwright.sync_api import Locator, Page, expect

from tests.browser.media import HEARD, frames_in_one_of, sound_heard
from tests.browser.test_call import SCREENSHOTS, chat, status
from tests.browser.test_in_call import stat
from tests.browser.test_renegotiation import RECORD_PEER_CONNECTIONS
from tests.servers import ServerProcess

CONNECT_MS = 30_000
# bandwidth.js: UPLINK_BUDGET_BPS shared by the people we send to.
UPLINK_BUDGET_BPS = 2_500_000

# maxBitrate of the video sender of every open peer connection that has a remote side.
VIDEO_CAPS = """
() => window.__peerConnections
  .filter((pc) => pc.connectionState !== "closed" && pc.remoteDescription)
  .map((pc) => {
    const sender = pc.getTransceivers().find((t) => t.receiver.track.kind === "video").sender;
    return sender.getParameters().encodings[0]?.maxBitrate ?? null;
  })
"""
# What the encoders aim at (outbound-rtp targetBitrate), per connection.
VIDEO_TARGETS = """
async () => {
  const targets = [];
  for (const pc of window.__peerConnections) {
    if (pc.connectionState !== "connected") continue;
    (await pc.getStats()).forEach((s) => {
      if (s.type === "outbound-rtp" && s.kind === "video") targets.push(s.targetBitrate);
    });
  }
  return targets;
}
"""


def tile_video(page: Page, name: str):
    return page.get_by_label(f"Remote video: {name}", exact=True)


def enter(page: Page, name: str, url: str, button: str) -> None:
    page.add_init_script(RECORD_PEER_CONNECTIONS)
    page.goto(url)
    page.get_by_role("textbox", name="Your name").fill(name)
    page.get_by_role("button", name=button).click()


def start_group(page: Page, server: ServerProcess, name: str) -> str:
    enter(page, name, server.url, "New call")
    expect(status(page)).to_have_text("Waiting for someone to join")
    return page.get_by_role("textbox", name="Call link").input_value()


def assert_sees(page: Page, *names: str) -> None:
    """A tile for each of `names` (and nobody else), each showing moving video."""
    expect(page.locator("figure.tile")).to_have_count(len(names), timeout=CONNECT_MS)
    page.bring_to_front()
    for name in names:
        video = tile_video(page, name)
        expect(video).to_be_visible(timeout=CONNECT_MS)
        frames = frames_in_one_of(video, windows=10)
        assert frames["count"] > 10, (name, frames)


def test_three_people_see_each_other_and_a_fourth_comes_after_one_left(server, new_page):
    ann, ben, cat = new_page(), new_page(), new_page(phone=True)
    link = start_group(ann, server, "Ann")
    enter(ben, "Ben", link, "Join")
    enter(cat, "Cat", link, "Join")
    for page in (ann, ben, cat):
        expect(status(page)).to_have_text("Connected", timeout=CONNECT_MS)
    assert_sees(ann, "Ben", "Cat")
    assert_sees(ben, "Ann", "Cat")
    assert_sees(cat, "Ann", "Ben")
    expect(ann.get_by_role("log", name="Messages")).to_contain_text("Cat joined")

    # On a laptop the two tiles sit side by side; on the phone, one above the other,
    # and nothing scrolls sideways.
    first, second = (tile_video(ann, name).bounding_box() for name in ("Ben", "Cat"))
    assert first
    assert second
    assert abs(first["y"] - second["y"]) < 1
    assert first["x"] + first["width"] <= second["x"]
    first, second = (tile_video(cat, name).bounding_box() for name in ("Ann", "Ben"))
    assert first
    assert second
    assert first["y"] + first["height"] <= second["y"]
    assert cat.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ann.evaluate("window.scrollTo(0, 0)")
    ann.screenshot(path=SCREENSHOTS / "group-laptop.png")
    cat.screenshot(path=SCREENSHOTS / "group-phone.png")

    # A message reaches everybody, signed with the sender's name.
    ann.get_by_role("textbox", name="Message").fill("hello both")
    ann.get_by_role("button", name="Send", exact=True).click()
    for page in (ben, cat):
        log = page.get_by_role("log", name="Messages")
        expect(log).to_contain_text("hello both")
        expect(log.locator("li", has_text="hello both")).to_contain_text("Ann")

    # The marks go on the right tile.
    ben.get_by_role("button", name="Mute").click()
    ben_tile = ann.locator("figure.tile", has=tile_video(ann, "Ben"))
    cat_tile = ann.locator("figure.tile", has=tile_video(ann, "Cat"))
    expect(ben_tile.get_by_text("Their microphone is muted")).to_be_visible()
    expect(cat_tile.get_by_text("Their microphone is muted")).to_be_hidden()

    # Cat leaves: her tile goes, the others are told and go on undisturbed.
    cat.get_by_role("button", name="Hang up").click()
    for page, other in ((ann, "Ben"), (ben, "Ann")):
        expect(page.get_by_role("log", name="Messages")).to_contain_text("Cat left")
        expect(tile_video(page, "Cat")).to_have_count(0)
        expect(status(page)).to_have_text("Connected")
        assert_sees(page, other)

    # Somebody new joins the two who stayed.
    dan = new_page()
    enter(dan, "Dan", link, "Join")
    expect(status(dan)).to_have_text("Connected", timeout=CONNECT_MS)
    assert_sees(dan, "Ann", "Ben")
    assert_sees(ann, "Ben", "Dan")
    assert_sees(ben, "Ann", "Dan")


def test_someone_whose_camera_is_off_shows_as_their_initial(server, new_page):
    ann, ben = new_page(), new_page()
    link = start_group(ann, server, "Ann")
    enter(ben, "émile", link, "Join")
    assert_sees(ann, "émile")
    tile = ann.locator("figure.tile")
    avatar = tile.locator(".avatar")
    expect(avatar).to_be_hidden()  # their picture is there

    ben.get_by_role("button", name="Camera off").click()
    expect(avatar).to_be_visible()
    expect(avatar).to_have_text("É")
    # A colour of their own, from their peer id.
    hue = avatar.evaluate("(element) => element.style.getPropertyValue('--hue')")
    assert hue.isdigit()

    ben.get_by_role("button", name="Camera on").click()
    expect(avatar).to_be_hidden()
    assert_sees(ann, "émile")


def receiving_within(field: Locator, lowest: int, highest: int | None) -> None:
    """Waits until the panel's "Receiving" figure (kbit/s) is within the range: a
    second of a newly shown person's figures comes in, then holds within it."""
    field.page.wait_for_function(
        """([field, lowest, highest]) => {
            const kbps = parseInt(field.textContent, 10);
            return kbps >= lowest && (highest === null || kbps <= highest);
        }""",
        arg=[field.element_handle(), lowest, highest],
        timeout=15_000,
    )


def test_the_statistics_are_of_the_person_picked(server, new_page):
    ann, ben, cat = new_page(), new_page(), new_page()
    link = start_group(ann, server, "Ann")
    enter(ben, "Ben", link, "Join")
    enter(cat, "Cat", link, "Join")
    assert_sees(ann, "Ben", "Cat")
    # Ben sends nearly nothing: no picture, and silence.
    ben.get_by_role("button", name="Camera off").click()
    ben.get_by_role("button", name="Mute").click()

    ann.get_by_role("button", name="Call statistics").click()
    panel = ann.get_by_role("region", name="Call statistics")
    people = panel.get_by_role("combobox", name="Statistics with")
    expect(people.locator("option")).to_have_text(["Ben", "Cat"])
    receiving = stat(panel, "Receiving")
    for name, lowest, highest in (("Cat", 100, None), ("Ben", 0, 60), ("Cat", 100, None)):
        people.select_option(label=name)
        receiving_within(receiving, lowest, highest)

    # The pick holds while people come: Dan joining does not move the panel off Cat.
    dan = new_page()
    enter(dan, "Dan", link, "Join")
    expect(people.locator("option")).to_have_text(["Ben", "Cat", "Dan"], timeout=CONNECT_MS)
    expect(status(dan)).to_have_text("Connected", timeout=CONNECT_MS)
    expect(people).to_have_value(people.locator("option", has_text="Cat").get_attribute("value"))
    people.select_option(label="Ben")
    dan.get_by_role("button", name="Hang up").click()
    expect(people.locator("option")).to_have_text(["Ben", "Cat"])
    expect(people).to_have_value(people.locator("option", has_text="Ben").get_attribute("value"))
    receiving_within(receiving, 0, 60)

    # Cat leaves: only Ben is left, the list goes and the figures are his.
    cat.get_by_role("button", name="Hang up").click()
    expect(people).to_be_hidden()
    receiving_within(receiving, 0, 60)


def test_each_person_shares_their_uplink_between_the_others(server, new_page):
    ann, ben, cat = new_page(), new_page(), new_page()
    link = start_group(ann, server, "Ann")
    enter(ben, "Ben", link, "Join")
    expect(status(ben)).to_have_text("Connected", timeout=CONNECT_MS)
    # Two people: no cap, the browser decides.
    ann.wait_for_function(f"() => ({VIDEO_CAPS})().length === 1")
    assert ann.evaluate(VIDEO_CAPS) == [None]

    enter(cat, "Cat", link, "Join")
    per_peer = UPLINK_BUDGET_BPS // 2
    for page in (ann, ben, cat):
        expect(status(page)).to_have_text("Connected", timeout=CONNECT_MS)
        page.wait_for_function(
            f"() => {{ const caps = ({VIDEO_CAPS})();"
            f" return caps.length === 2 && caps.every((cap) => cap === {per_peer}); }}",
            timeout=CONNECT_MS,
        )
    # The encoders aim under the cap (not just a setting nobody reads).
    ann.wait_for_timeout(3000)
    targets = ann.evaluate(VIDEO_TARGETS)
    assert len(targets) == 2, targets
    assert all(0 < target <= per_peer for target in targets), targets

    # Back to two: the cap is lifted.
    cat.get_by_role("button", name="Hang up").click()
    ann.wait_for_function(
        f"() => {{ const caps = ({VIDEO_CAPS})(); return caps.length === 1 && caps[0] === null; }}",
        timeout=CONNECT_MS,
    )


def test_names_are_text_and_the_page_remembers_yours(server, new_page):
    ann, ben = new_page(), new_page()
    markup = '<img src=x onerror="document.title=1">'
    link = start_group(ann, server, markup)
    enter(ben, "Ben", link, "Join")
    expect(status(ben)).to_have_text("Connected", timeout=CONNECT_MS)
    tile = ben.locator("figure.tile")
    expect(tile.locator("figcaption")).to_have_text(markup)
    expect(tile.locator("img")).to_have_count(0)
    # Next time on this device, the name is filled in already.
    ben.goto(re.sub(r"/c/.*", "/", link))
    expect(ben.get_by_role("textbox", name="Your name")).to_have_value("Ben")


def chat_lines(page: Page) -> list[str]:
    """The messages in the chat log, oldest first, as "who: text" (notices left out)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('#chat-log li:not(.notice)')].map((line) =>
          line.querySelector('.meta').firstChild.textContent.replace(' · ', '') + ': ' +
          line.querySelector('.text').textContent)"""
    )


def say(page: Page, text: str) -> None:
    """Sends a chat message, and waits until the page took it (the box is cleared)."""
    chat(page, text)
    expect(page.get_by_role("textbox", name="Message")).to_have_value("")


def test_who_joins_later_or_reloads_reads_what_was_said_before_once(server, new_page):
    ann, ben = new_page(), new_page()
    link = start_group(ann, server, "Ann")
    enter(ben, "Ben", link, "Join")
    for page in (ann, ben):
        expect(page.get_by_role("button", name="Send", exact=True)).to_be_enabled(
            timeout=CONNECT_MS
        )
    say(ann, "the agenda is in the doc")
    expect(ben.get_by_role("log", name="Messages")).to_contain_text("the agenda is in the doc")
    say(ben, "<b>reading</b> it now")
    expect(ann.get_by_role("log", name="Messages")).to_contain_text("reading")

    # Cat comes later: she reads both, in the order they were said, each once, and
    # nothing pops up over her call for them.
    cat = new_page()
    enter(cat, "Cat", link, "Join")
    expect(status(cat)).to_have_text("Connected", timeout=CONNECT_MS)
    cat_log = cat.get_by_role("log", name="Messages")
    expect(cat_log).to_contain_text("reading")
    expect(cat_log).to_contain_text("the agenda is in the doc")
    expect(cat_log.locator("b")).to_have_count(0)  # text, never markup
    expected = ["Ann: the agenda is in the doc", "Ben: <b>reading</b> it now"]
    assert chat_lines(cat) == expected
    expect(cat.locator("#chat-toast")).to_be_hidden()
    assert cat.title() == "peercall"

    # What is said from now on comes once, after them; the others are not sent
    # the earlier messages again.
    say(cat, "hi, just joined")
    for page in (ann, ben):
        expect(page.get_by_role("log", name="Messages")).to_contain_text("hi, just joined")
    assert chat_lines(cat) == [*expected, "You: hi, just joined"]
    assert chat_lines(ann) == [
        "You: the agenda is in the doc", "Ben: <b>reading</b> it now", "Cat: hi, just joined"
    ]  # fmt: skip

    # Ben reloads his page: he is someone new, and reads the others' messages again
    # (his own went with the page that sent them).
    ben.reload()
    enter(ben, "Ben", link, "Join")
    expect(status(ben)).to_have_text("Connected", timeout=CONNECT_MS)
    expect(ben.get_by_role("log", name="Messages")).to_contain_text("hi, just joined")
    assert chat_lines(ben) == ["Ann: the agenda is in the doc", "Cat: hi, just joined"]


# Video bytes each open peer connection of the page sent (outbound-rtp, bytesSent) or
# received (inbound-rtp, bytesReceived) over a window, fewest first.
VIDEO_BYTES = """
async ([windowMs, type, field]) => {
  const countedBy = async (pc) => {
    let bytes = 0;
    (await pc.getStats()).forEach((s) => {
      if (s.type === type && s.kind === "video") bytes += s[field];
    });
    return bytes;
  };
  const open = window.__peerConnections.filter((pc) => pc.connectionState === "connected");
  const before = await Promise.all(open.map(countedBy));
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const after = await Promise.all(open.map(countedBy));
  return after.map((bytes, index) => bytes - before[index]).sort((a, b) => a - b);
}
"""


def video_sent(page: Page, window_ms: int = 2000) -> list[int]:
    """Video bytes sent on each connection over a window, fewest first."""
    return page.evaluate(VIDEO_BYTES, [window_ms, "outbound-rtp", "bytesSent"])


def video_received(page: Page, window_ms: int = 2000) -> list[int]:
    """Video bytes received on each connection over a window, fewest first."""
    return page.evaluate(VIDEO_BYTES, [window_ms, "inbound-rtp", "bytesReceived"])


def test_stopping_incoming_video_stops_everybody_sending_it_and_keeps_the_sound(server, new_page):
    ann, ben, cat = new_page(), new_page(), new_page()
    link = start_group(ann, server, "Ann")
    enter(ben, "Ben", link, "Join")
    for page in (ann, ben):
        expect(status(page)).to_have_text("Connected", timeout=CONNECT_MS)
    assert video_sent(ann)[0] > 10_000

    # Ben's connection is poor: he stops the video coming to him, and hears Ann still.
    ben.get_by_role("button", name="Stop incoming video").click()
    expect(ben.get_by_role("button", name="Show incoming video")).to_have_attribute(
        "aria-pressed", "true"
    )
    ann_tile = ben.locator("figure.tile", has=tile_video(ben, "Ann"))
    expect(ann_tile.get_by_text("Incoming video stopped")).to_be_visible()
    expect(tile_video(ben, "Ann")).to_be_hidden()
    ann.wait_for_timeout(1000)  # what was on its way
    assert video_sent(ann) == [0]
    assert sound_heard(tile_video(ben, "Ann")) > HEARD

    # Whoever comes later is asked too: Cat sends her video to Ann, not to Ben.
    enter(cat, "Cat", link, "Join")
    for page in (ann, ben, cat):
        expect(status(page)).to_have_text("Connected", timeout=CONNECT_MS)
    cat_tile = ben.locator("figure.tile", has=tile_video(ben, "Cat"))
    expect(cat_tile.get_by_text("Incoming video stopped")).to_be_visible()
    cat.wait_for_timeout(1000)
    to_ben, to_ann = video_sent(cat)
    assert to_ben == 0
    assert to_ann > 10_000

    ben.get_by_role("button", name="Show incoming video").click()
    expect(ann_tile.get_by_text("Incoming video stopped")).to_be_hidden()
    assert_sees(ben, "Ann", "Cat")
    assert min(video_sent(ann)) > 10_000

    # Pressed three times in a row: the last press is what the others do.
    ben.evaluate(
        "() => { for (let n = 0; n < 3; n++) document.getElementById('incoming-video').click(); }"
    )
    expect(ben.get_by_role("button", name="Show incoming video")).to_be_visible()
    ann.wait_for_timeout(1000)
    assert video_sent(ann)[0] == 0  # to Ben; to Cat it goes on
