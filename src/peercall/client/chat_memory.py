"""What the chat remembers in a call, as the page's chat-memory.js does.

Our own last messages are sent again on every data channel that opens (to someone
who joined late, or whose connection with us was replaced), and each person's
message ids already told are kept, so that a message that comes again is told once.
Only our own messages are sent again: one passed on for somebody else could not be
told from one made up in their name.
"""

from __future__ import annotations

from collections import OrderedDict, deque

from peercall.client.datachannel import ChatText

# Our messages sent again to whoever comes; receivers take as many (peer.py).
KEPT_MESSAGES = 50
# Ids kept per person: well past the KEPT_MESSAGES they may send again.
KEPT_IDS = 500


class ChatMemory:
    def __init__(self) -> None:
        self._ours: deque[ChatText] = deque(maxlen=KEPT_MESSAGES)
        self._told: dict[str, OrderedDict[str, None]] = {}

    def remember_sent(self, message: ChatText) -> None:
        """Our message, sent to somebody."""
        self._ours.append(message)

    @property
    def sent(self) -> list[ChatText]:
        """Our last messages, oldest first."""
        return list(self._ours)

    def first_time(self, peer_id: str, message_id: str | None) -> bool:
        """Whether message `message_id` of `peer_id` comes for the first time (noted if
        so). One without an id (from a client older than ids) always does."""
        if message_id is None:
            return True
        told = self._told.setdefault(peer_id, OrderedDict())
        if message_id in told:
            return False
        told[message_id] = None
        if len(told) > KEPT_IDS:
            told.popitem(last=False)
        return True

    def forget(self, peer_id: str) -> None:
        """`peer_id` left the call: nothing of theirs comes again."""
        self._told.pop(peer_id, None)
