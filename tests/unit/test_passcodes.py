from peercall.server.passcodes import hash_passcode, passcode_matches, passcode_problem


def test_only_the_same_passcode_matches_its_hash():
    stored = hash_passcode("correct horse")
    assert passcode_matches("correct horse", stored)
    assert not passcode_matches("correct horsE", stored)
    assert not passcode_matches("", stored)


def test_a_damaged_hash_matches_nothing():
    stored = hash_passcode("1234")
    for damaged in ("", "scrypt$1$2", stored.replace("scrypt", "md5"), stored[:-4]):
        assert not passcode_matches("1234", damaged)


def test_passcodes_too_short_or_too_long_are_refused():
    assert passcode_problem("123") is not None
    assert passcode_problem("1234") is None
    assert passcode_problem("x" * 129) is not None
