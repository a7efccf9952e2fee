"""Failures a caller of the Python client can act on, one exception type each."""

from __future__ import annotations

from peercall.protocol import ErrorCode


class CallError(Exception):
    """The server refused what we asked (`code` is the protocol's error code)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @classmethod
    def from_wire(cls, code: str, message: str) -> CallError:
        """The most specific exception type for an error received from the server."""
        kind = _BY_CODE.get(code, CallError)
        return kind(code, message)


class CallNotFound(CallError):
    """No call has this id: the link is wrong."""


class CallEnded(CallError):
    """The call existed but has ended."""


class CallFull(CallError):
    """The call already has as many people as it can hold."""


class PasscodeRequired(CallError):
    """The call has a passcode and none was given."""


class WrongPasscode(CallError):
    """The passcode given is not the call's."""


class ServerUnreachable(CallError):
    """The server could not be reached, or the connection to it was lost."""

    def __init__(self, message: str) -> None:
        super().__init__("connection-failed", message)


class InvalidLink(ValueError):
    """The text given as a call link is not one."""


_BY_CODE: dict[str, type[CallError]] = {
    ErrorCode.CALL_NOT_FOUND: CallNotFound,
    ErrorCode.CALL_ENDED: CallEnded,
    ErrorCode.CALL_FULL: CallFull,
    ErrorCode.PASSCODE_REQUIRED: PasscodeRequired,
    ErrorCode.WRONG_PASSCODE: WrongPasscode,
}
