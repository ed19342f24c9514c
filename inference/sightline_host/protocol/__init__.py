"""The host's view of the protocol: the JSON Schema generated from the app's zod source, and validators for it."""

import heapq
import json
from collections import defaultdict
from functools import cache
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, relevance

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


#: Fields whose value picks the branch of a union: a message's `type`, an image's `format`.
_DISCRIMINATORS = ("type", "format")


def _misses_discriminator(error: ValidationError) -> bool:
    """A union branch's error (its path is relative to the union's instance) saying that it is the wrong branch."""
    return str(error.validator) in ("const", "enum") and len(error.path) == 1 and error.path[0] in _DISCRIMINATORS


def _most_relevant(errors: list[ValidationError]) -> ValidationError | None:
    """jsonschema's best_match, except that inside a union only the branch whose `type` or `format` matched speaks
    (when exactly one did): a raw image with width 0 is told about its width, not that "rgba" is not "png"."""
    if not errors:
        return None
    best = max(errors, key=relevance)
    while best.context:
        branches: dict[object, list[ValidationError]] = defaultdict(list)
        for inner in best.context:
            branches[inner.relative_schema_path[0]].append(inner)
        matched = [errs for errs in branches.values() if not any(_misses_discriminator(e) for e in errs)]
        candidates = matched[0] if len(matched) == 1 else best.context
        smallest = heapq.nsmallest(2, candidates, key=relevance)
        if len(smallest) == 2 and relevance(smallest[0]) == relevance(smallest[1]):
            return best
        best = smallest[0]
    return best


def _problem(which: str, message: object) -> str | None:
    error = _most_relevant(list(_validator(which).iter_errors(message)))
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
