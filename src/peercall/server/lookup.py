"""Finding the call a client names, for `join` and for `GET /api/calls/{id}` and its
QR code alike: one check, with the search limit of `FailedLookupGuard`."""

from __future__ import annotations

from peercall.ids import is_call_id
from peercall.protocol import ErrorCode, ProtocolError
from peercall.server.limits import FailedLookupGuard
from peercall.server.store import CallRecord, CallStore

LOOKUPS_LIMITED = "Too many links to calls that do not exist from your address; wait a minute."


async def find_call(
    store: CallStore, lookups: FailedLookupGuard, call_id: str, address: str
) -> CallRecord:
    """The call, not ended; raises `rate-limited`, `call-not-found` or `call-ended`.
    A call that is not found counts against `address`."""
    if not lookups.may_look_up(address):
        raise ProtocolError(ErrorCode.RATE_LIMITED, LOOKUPS_LIMITED)
    record = await store.get_call(call_id) if is_call_id(call_id) else None
    if record is None:
        lookups.failed(address)
        raise ProtocolError(ErrorCode.CALL_NOT_FOUND)
    if record.ended:
        raise ProtocolError(ErrorCode.CALL_ENDED)
    return record
