"""The host's view of the protocol: the JSON Schema generated from the app's zod source, and validators for it."""

import json
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from sightline_host.protocol.types import (
    MAX_FRAME_BYTES,
    MAX_IMAGE_BYTES,
    MAX_IMAGE_PIXELS,
    MAX_OBSERVES_IN_FLIGHT,
    PROTOCOL_VERSION,
    ClientMessage,
    ErrorMessage,
    HostMessage,
)

__all__ = [
    "MAX_FRAME_BYTES",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "MAX_OBSERVES_IN_FLIGHT",
    "PROTOCOL_VERSION",
    "ClientMessage",
    "ErrorMessage",
    "HostMessage",
    "client_problem",
    "host_problem",
    "schema",
]


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(files("sightline_host.protocol").joinpath("schema.json").read_text("utf-8"))
    return loaded


@cache
def _validator(which: str) -> Draft202012Validator:
    return Draft202012Validator(schema()[which])


def _problem(which: str, message: object) -> str | None:
    error = best_match(_validator(which).iter_errors(message))
    if error is None:
        return None
    path = "/".join(str(p) for p in error.absolute_path) or "(message)"
    return f"{path}: {error.message}"


def client_problem(message: object) -> str | None:
    """Why a message from the app breaks the protocol, or None if it is valid."""
    return _problem("client_message", message)


def host_problem(message: object) -> str | None:
    """Why a message the host is about to send breaks the protocol, or None if it is valid."""
    return _problem("host_message", message)
