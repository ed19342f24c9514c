"""Constrained decoding with llguidance: at every step only tokens that keep the answer inside the schema survive."""

from __future__ import annotations

import json
from typing import Any

import llguidance
import llguidance.numpy as llg_numpy
import numpy as np
import numpy.typing as npt

from sightline_host.planner.chat_types import EngineError


class JsonSchemaConstraint:
    """One request's matcher: masks logits before sampling and follows each token chosen."""

    def __init__(self, tokenizer: llguidance.LLTokenizer, schema: dict[str, Any]) -> None:
        try:
            # Compact JSON: no whitespace tokens for a small model to wander into.
            grammar = llguidance.LLMatcher.grammar_from_json_schema(
                json.dumps(schema), defaults={"whitespace_flexible": False}
            )
        except (ValueError, RuntimeError, TypeError) as error:
            raise EngineError("bad_request", f"response_format schema is not usable: {error}") from error
        self._matcher = llguidance.LLMatcher(tokenizer, grammar, log_level=0)
        if self._matcher.is_error():
            raise EngineError("bad_request", f"response_format schema is not usable: {self._matcher.get_error()}")
        self._mask = llg_numpy.allocate_token_bitmask(1, tokenizer.vocab_size)

    def mask_logits(self, logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        llg_numpy.fill_next_token_bitmask(self._matcher, self._mask)
        llg_numpy.apply_token_bitmask_inplace(logits[None, :], self._mask)
        return logits

    def advance(self, token: int) -> None:
        if not self._matcher.consume_token(token):
            raise EngineError("internal", f"constraint refused token {token}: {self._matcher.get_error()}", 500)

    def try_advance(self, token: int) -> bool:
        """Follows `token` if the schema allows it here; False (and no change) if it does not."""
        return bool(self._matcher.try_consume_tokens([token]))

    @property
    def finished(self) -> bool:
        return self._matcher.is_stopped()

    @property
    def accepting(self) -> bool:
        return self._matcher.is_accepting()
