"""Persistence of calls and their history, behind one interface (`CallStore`)."""

from peercall.server.store.base import (
    STORAGE_UNAVAILABLE,
    CallEvent,
    CallRecord,
    CallStore,
    EventKind,
    call_key,
    store_safely,
    warn_storage_unavailable,
)

__all__ = [
    "STORAGE_UNAVAILABLE",
    "CallEvent",
    "CallRecord",
    "CallStore",
    "EventKind",
    "call_key",
    "store_safely",
    "warn_storage_unavailable",
]
