"""How a transformers VLM turns chat messages into model inputs and generates: two families.

- `ChatTemplateBackend`: transformers-native image-text-to-text models (LLaVA, Qwen2-VL, Idefics3/SmolVLM …),
  prompted through the processor's own chat template.
- `MolmoBackend`: Molmo (v1), whose remote code has no chat template; its processor's `process` builds the
  "User: … Assistant:" prompt and the image crops, and `generate_from_batch` runs generation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from PIL import Image

from sightline_host.planner.chat_types import ChatMessage, EngineError

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Prompt:
    inputs: dict[str, torch.Tensor]
    length: int  # tokens, the image's own tokens included


@dataclass(frozen=True)
class Sampling:
    max_new_tokens: int
    temperature: float


class VlmBackend(Protocol):
    # A transformers fast tokenizer (PreTrainedTokenizerFast): llguidance reads its vocabulary.
    tokenizer: Any
    eos_token_ids: list[int]

    def prepare(self, messages: list[ChatMessage]) -> Prompt: ...

    def generate(self, prompt: Prompt, sampling: Sampling, **hooks: Any) -> None:
        """Runs generation to its end; `hooks` are generate()'s streamer, logits_processor, stopping_criteria."""
        ...


def _pil(message_images: list[Any]) -> list[Image.Image]:
    return [Image.fromarray(image.pixels) for image in message_images]


def _sampling_args(sampling: Sampling) -> dict[str, Any]:
    if sampling.temperature <= 0:
        return {"do_sample": False}
    # top_k and top_p off: the request's temperature is the whole sampling recipe, as the OpenAI API has it.
    return {"do_sample": True, "temperature": sampling.temperature, "top_k": 0, "top_p": 1.0}


def _eos_ids(*candidates: Any) -> list[int]:
    ids: list[int] = []
    for candidate in candidates:
        values = candidate if isinstance(candidate, list | tuple) else [candidate]
        ids += [int(v) for v in values if v is not None and int(v) not in ids]
    return ids


class ChatTemplateBackend:
    def __init__(self, model: Any, processor: Any) -> None:
        self._model = model
        self._processor = processor
        self.tokenizer = processor.tokenizer
        self.eos_token_ids = _eos_ids(model.generation_config.eos_token_id, self.tokenizer.eos_token_id)
        if not self.eos_token_ids:
            raise EngineError("model_unavailable", "the model names no end-of-sequence token", 503)
        if not getattr(processor, "chat_template", None):
            raise EngineError("model_unavailable", "the model's processor carries no chat template", 503)

    def prepare(self, messages: list[ChatMessage]) -> Prompt:
        conversation = [
            {
                "role": m.role,
                "content": [{"type": "image"} for _ in m.images] + [{"type": "text", "text": m.content}],
            }
            for m in messages
        ]
        text = self._processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
        images = [image for m in messages for image in _pil(list(m.images))]
        # The template already wrote the special tokens it wants (a BOS among them); do not add them twice.
        batch = self._processor(text=[text], images=images or None, return_tensors="pt", add_special_tokens=False)
        inputs = {name: value.to(self._model.device) for name, value in batch.items()}
        if "pixel_values" in inputs and inputs["pixel_values"].is_floating_point():
            inputs["pixel_values"] = inputs["pixel_values"].to(self._model.dtype)
        return Prompt(inputs, int(inputs["input_ids"].shape[1]))

    def generate(self, prompt: Prompt, sampling: Sampling, **hooks: Any) -> None:
        pad = self.tokenizer.pad_token_id
        self._model.generate(
            **prompt.inputs,
            max_new_tokens=sampling.max_new_tokens,
            eos_token_id=self.eos_token_ids,
            pad_token_id=pad if pad is not None else self.eos_token_ids[0],
            **_sampling_args(sampling),
            **hooks,
        )


def molmo_prompt(messages: list[ChatMessage]) -> str:
    """One prompt in Molmo's own turn format; its processor adds the first "User:" and the last " Assistant:".

    Molmo was trained on "User: … Assistant: …" turns with no system role, so a system message leads the first
    user turn and earlier answers sit between the turns as Molmo itself would have written them.
    """
    system = " ".join(m.content for m in messages if m.role == "system" and m.content)
    turns: list[str] = []
    for m in messages:
        if m.role == "user":
            turns.append(m.content if turns else " ".join(part for part in (system, m.content) if part))
        elif m.role == "assistant" and turns:
            turns[-1] += f" Assistant: {m.content} User:"
    if not turns:
        raise EngineError("bad_request", "Molmo needs a user message")
    return " ".join(turns)


class MolmoBackend:
    def __init__(self, model: Any, processor: Any, dtype: Any) -> None:
        self._model = model
        self._processor = processor
        self._dtype = dtype
        self.tokenizer = processor.tokenizer
        self.eos_token_ids = _eos_ids(self.tokenizer.eos_token_id)

    def prepare(self, messages: list[ChatMessage]) -> Prompt:
        images = [image for m in messages for image in _pil(list(m.images))]
        if len(images) > 1:
            raise EngineError("unsupported_content", f"Molmo reads one image per request, not {len(images)}")
        batch = self._processor.process(images=images or None, text=molmo_prompt(messages))
        inputs = {name: value.to(self._model.device).unsqueeze(0) for name, value in batch.items()}
        if "images" in inputs:
            inputs["images"] = inputs["images"].to(self._dtype)
        return Prompt(inputs, int(inputs["input_ids"].shape[1]))

    def generate(self, prompt: Prompt, sampling: Sampling, **hooks: Any) -> None:
        from transformers import GenerationConfig  # noqa: PLC0415  (PyTorch-only dependency)

        config = GenerationConfig(  # type: ignore[no-untyped-call]  # its **kwargs are untyped
            max_new_tokens=sampling.max_new_tokens,
            eos_token_id=self.eos_token_ids,
            pad_token_id=self.tokenizer.pad_token_id,
            use_cache=True,
            **_sampling_args(sampling),
        )
        self._model.generate_from_batch(prompt.inputs, config, tokenizer=self.tokenizer, **hooks)
