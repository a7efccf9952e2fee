import os
import re

from peercall import ids
from peercall.ids import CALL_ID_PATTERN, PEER_ID_PATTERN, RandomPool, token_urlsafe


def test_ids_have_the_documented_shape():
    assert re.fullmatch(CALL_ID_PATTERN, ids.new_call_id())
    assert re.fullmatch(PEER_ID_PATTERN, ids.new_peer_id())
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token_urlsafe(24))  # a resume token


def test_the_pool_hands_out_each_random_byte_once_across_refills():
    pool = RandomPool(size=40)
    taken = [pool.take(12) for _ in range(10)]  # three per read: a refill every fourth
    assert all(len(chunk) == 12 for chunk in taken)
    assert len(set(taken)) == len(taken)
    # Within one read of the kernel, chunks are consecutive, none overlapping.
    pool = RandomPool(size=40)
    first, second, third = pool.take(12), pool.take(12), pool.take(12)
    assert pool.data[:36] == first + second + third


def test_more_than_a_pool_is_read_from_the_kernel_directly():
    pool = RandomPool(size=16)
    assert len(pool.take(64)) == 64
    assert pool.data == b""  # the pool was not used


def test_a_child_process_does_not_hand_out_its_parents_bytes():
    token_urlsafe(12)  # the parent has a pool read, with bytes still to hand out
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        os.write(write_end, token_urlsafe(12).encode())
        os._exit(0)
    os.close(write_end)
    os.waitpid(child, 0)
    childs = os.read(read_end, 64).decode()
    os.close(read_end)
    assert len(childs) == 16
    assert token_urlsafe(12) != childs
