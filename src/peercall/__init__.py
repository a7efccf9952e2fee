"""peercall: self-hosted, private video calls between browsers, with a Python server."""

__version__ = "0.1.0"
