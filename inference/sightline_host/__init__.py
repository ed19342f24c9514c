"""Sightline's inference host: a model server behind a token-protected WebSocket, and nothing more."""

__version__ = "0.1.0"
