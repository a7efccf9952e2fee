"""What a call sends: a source replaced mid-call (`SwitchableTrack.replace_source`)."""

import pytest

from peercall.client.media import SwitchableTrack, ToneAudio
from peercall.client.media import TestPatternVideo as Bars  # not a test class


async def test_frames_come_from_the_new_source_once_it_is_replaced():
    sent = SwitchableTrack(Bars(640, 480))
    assert (await sent.recv()).width == 640
    sent.replace_source(Bars(320, 240))
    assert (await sent.recv()).width == 320


async def test_the_old_source_ending_no_longer_ends_what_is_sent():
    camera, screen = Bars(), Bars()
    sent = SwitchableTrack(camera)
    sent.replace_source(screen)
    camera.stop()  # the owner closes what was switched away from
    assert sent.readyState == "live"
    screen.stop()
    assert sent.readyState == "ended"


def test_a_source_of_another_kind_or_after_the_end_is_refused():
    sent = SwitchableTrack(Bars())
    with pytest.raises(ValueError, match="Only a video track can replace a video track"):
        sent.replace_source(ToneAudio())
    sent.stop()
    with pytest.raises(ValueError, match="The video sent in this call has ended"):
        sent.replace_source(Bars())
