"""Persistence of calls and their history, behind one interface (`CallStore`)."""

from peercall.server.store.base import (
    CallEvent,
    CallRecord,
    CallStore,
    EventKind,
    call_key,
    store_safely,
)

__all__ = ["CallEvent", "CallRecord", "CallStore", "EventKind", "call_key", "store_safely"]
