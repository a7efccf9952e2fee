from peercall.client.chat_memory import KEPT_IDS, KEPT_MESSAGES, ChatMemory
from peercall.client.datachannel import new_chat_message


def test_our_last_messages_are_kept_oldest_first():
    memory = ChatMemory()
    messages = [new_chat_message(f"message {n}") for n in range(KEPT_MESSAGES + 3)]
    for message in messages:
        memory.remember_sent(message)
    assert memory.sent == messages[3:]


def test_a_message_comes_once_per_sender():
    memory = ChatMemory()
    assert memory.first_time("ann", "m1")
    assert not memory.first_time("ann", "m1")
    assert memory.first_time("ben", "m1")  # another sender's ids are their own
    assert memory.first_time("ann", None)  # no id (an older client): always new
    assert memory.first_time("ann", None)


def test_who_left_is_forgotten_and_the_ids_kept_are_bounded():
    memory = ChatMemory()
    memory.first_time("ann", "m1")
    memory.forget("ann")
    assert memory.first_time("ann", "m1")
    for n in range(KEPT_IDS + 1):
        memory.first_time("ben", f"id {n}")
    assert memory.first_time("ben", "id 0")  # the oldest went
    assert not memory.first_time("ben", f"id {KEPT_IDS}")
