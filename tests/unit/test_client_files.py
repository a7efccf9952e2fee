"""Files over the data channel, for the Python client: what it takes, how it checks
them, and how it saves them whatever their sender called them."""

import json
import os
from pathlib import Path

import pytest

from peercall.client import datachannel, safe_file_name, save_file
from peercall.client.files import FileAssembler, file_start


class Outcomes:
    def __init__(self) -> None:
        self.files: list[tuple[str, bytes]] = []
        self.failures: list[tuple[str, str]] = []
        self.assembler = FileAssembler(
            on_file=lambda start, data: self.files.append((start.name, data)),
            on_failure=lambda start, reason: self.failures.append((start.name, reason)),
        )


def start(name: str, size: int, transfer_id: str = "t1") -> datachannel.FileStart:
    return datachannel.FileStart(id=transfer_id, name=name, size=size, mime="text/plain")


def test_a_file_start_from_the_page_is_understood():
    page_sends = {"type": "file-start", "id": "a-b", "name": "x.pdf", "size": 3, "mime": ""}
    message = datachannel.decode_message(json.dumps(page_sends))
    assert message == datachannel.FileStart(id="a-b", name="x.pdf", size=3, mime="")
    assert datachannel.decode_message('{"type": "file-end", "id": "a-b"}') == datachannel.FileEnd(
        id="a-b"
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"id": "", "name": "x", "size": 1},
        {"id": "x" * 65, "name": "x", "size": 1},
        {"id": "t", "name": "", "size": 1},
        {"id": "t", "name": "x" * 256, "size": 1},
        {"id": "t", "name": "x", "size": -1},
        {"id": "t", "name": "x", "size": 512 * 1024 * 1024 + 1},
        {"id": "t", "name": "x", "size": "1"},
    ],
)
def test_a_file_start_outside_the_protocol_is_ignored(fields):
    assert datachannel.decode_message(json.dumps({"type": "file-start", **fields})) is None


def test_chunks_between_start_and_end_make_the_file():
    outcomes = Outcomes()
    outcomes.assembler.start(start("a.bin", 5))
    outcomes.assembler.chunk(b"abc")
    outcomes.assembler.chunk(b"de")
    outcomes.assembler.end(datachannel.FileEnd(id="t1"))
    assert outcomes.files == [("a.bin", b"abcde")]
    assert outcomes.failures == []


def test_a_file_of_other_bytes_than_announced_is_dropped():
    outcomes = Outcomes()
    outcomes.assembler.start(start("long.bin", 2))
    outcomes.assembler.chunk(b"abc")
    outcomes.assembler.chunk(b"more")  # belongs to nothing now: ignored
    outcomes.assembler.end(datachannel.FileEnd(id="t1"))
    outcomes.assembler.start(start("short.bin", 4, "t2"))
    outcomes.assembler.chunk(b"ab")
    outcomes.assembler.end(datachannel.FileEnd(id="t2"))
    assert outcomes.files == []
    assert outcomes.failures == [
        ("long.bin", "more bytes than announced"),
        ("short.bin", "fewer bytes than announced"),
    ]


def test_a_file_cut_off_by_another_or_by_the_channel_closing_fails():
    outcomes = Outcomes()
    outcomes.assembler.start(start("first", 4))
    outcomes.assembler.chunk(b"ab")
    outcomes.assembler.start(start("second", 1, "t2"))
    outcomes.assembler.abort()
    outcomes.assembler.end(datachannel.FileEnd(id="t1"))  # too late: nothing
    assert outcomes.files == []
    assert outcomes.failures == [
        ("first", "a new file started before the last one ended"),
        ("second", "the connection closed"),
    ]


def test_an_end_of_another_file_is_ignored():
    outcomes = Outcomes()
    outcomes.assembler.start(start("a", 1))
    outcomes.assembler.chunk(b"x")
    outcomes.assembler.end(datachannel.FileEnd(id="other"))
    assert outcomes.files == []
    outcomes.assembler.end(datachannel.FileEnd(id="t1"))
    assert outcomes.files == [("a", b"x")]


def test_an_announcement_cuts_a_long_name_to_what_the_protocol_takes():
    announced = file_start("n" * 300 + ".txt", 10)
    assert len(announced.name) == 255
    assert file_start("", 0).name == "file"
    assert file_start("a", 1).id != file_start("a", 1).id


@pytest.mark.parametrize(
    ("given", "saved_as"),
    [
        ("photo.jpg", "photo.jpg"),
        ("../../.bashrc", "bashrc"),
        ("/etc/passwd", "passwd"),
        ("..\\..\\Windows\\evil.exe", "evil.exe"),
        ("..", "file"),
        ("a\nb\x00c.txt", "a_b_c.txt"),
        ('what?<>:"|*.txt', "what_______.txt"),
        ("   ", "file"),
        ("é" * 200 + ".pdf", "é" * 125 + ".pdf"),
    ],
)
def test_a_received_name_is_made_safe_to_save_under(given, saved_as):
    assert safe_file_name(given) == saved_as


def test_saving_never_overwrites_and_never_follows_a_link(tmp_path: Path):
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep me")
    directory = tmp_path / "downloads"
    directory.mkdir()
    (directory / "notes.txt").write_bytes(b"mine")
    os.symlink(outside, directory / "notes (2).txt")

    saved = save_file(directory, "../notes.txt", b"theirs")

    assert saved == directory / "notes (3).txt"
    assert saved.read_bytes() == b"theirs"
    assert (directory / "notes.txt").read_bytes() == b"mine"
    assert outside.read_bytes() == b"keep me"
