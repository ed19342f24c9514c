"""llguidance over a transformers model's logits: at each step only the tokens that keep the answer inside the
grammar (or JSON schema) keep their scores; the rest become -inf before sampling."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import llguidance
import llguidance.numpy as llg_numpy
import numpy as np

from sightline_host.planner.chat_types import EngineError

if TYPE_CHECKING:
    import torch


def grammar_for(schema: dict[str, Any] | None, lark: str | None) -> str | None:
    """llguidance's grammar for a request's JSON schema or Lark grammar; None when the answer is free."""
    if schema is not None and lark is not None:
        raise EngineError("bad_request", "a request takes a JSON schema or a grammar, not both")
    try:
        if schema is not None:
            # Compact JSON, as the planner writes it: no whitespace tokens for a small model to wander into.
            return str(
                llguidance.LLMatcher.grammar_from_json_schema(
                    json.dumps(schema), defaults={"whitespace_flexible": False}
                )
            )
        if lark is not None:
            return str(llguidance.LLMatcher.grammar_from_lark(lark))
    except (ValueError, RuntimeError, TypeError) as error:
        raise EngineError("bad_request", f"the answer's constraint is not usable: {error}") from error
    return None


class GrammarConstraint:
    """One request's matcher; `prompt_length` tokens of each sequence it sees are the prompt, the rest answer."""

    def __init__(self, tokenizer: llguidance.LLTokenizer, grammar: str, prompt_length: int) -> None:
        self._matcher = llguidance.LLMatcher(tokenizer, grammar, log_level=0)
        if self._matcher.is_error():
            raise EngineError("bad_request", f"the answer's constraint is not usable: {self._matcher.get_error()}")
        self._vocab = tokenizer.vocab_size
        self._bitmask = llg_numpy.allocate_token_bitmask(1, self._vocab)
        self._prompt_length = prompt_length
        self._consumed = 0

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        """A transformers logits processor: follows the tokens chosen since the last call, then masks."""
        import torch  # noqa: PLC0415  (the host imports this module without PyTorch installed)

        answer = input_ids[0, self._prompt_length :].tolist()
        for token in answer[self._consumed :]:
            if not self._matcher.consume_token(int(token)):
                raise EngineError("internal", f"the constraint refused token {token}: {self._matcher.get_error()}", 500)
        self._consumed = len(answer)
        llg_numpy.fill_next_token_bitmask(self._matcher, self._bitmask)
        # Bit i of the little-endian words says whether token i may come next.
        allowed = np.unpackbits(self._bitmask.view(np.uint8), bitorder="little")[: self._vocab].astype(bool)
        mask = torch.zeros(scores.shape[-1], dtype=torch.bool, device=scores.device)
        width = min(self._vocab, scores.shape[-1])
        mask[:width] = torch.from_numpy(allowed[:width]).to(scores.device)
        return scores.masked_fill(~mask, float("-inf"))

    @property
    def accepting(self) -> bool:
        return bool(self._matcher.is_accepting())
