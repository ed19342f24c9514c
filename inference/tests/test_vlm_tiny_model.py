"""A tiny LLaVA (CLIP vision tower + Llama decoder) with random weights, built offline: the real architecture and
processor of a transformers-native image-text-to-text model at a size a 2-core CPU runs in milliseconds a token.

Its tokenizer is a byte-level BPE trained here on a few lines, so every character has a token (the point grammar
needs digits, quotes and angle brackets) and nothing is downloaded. Random weights make the model's words
arbitrary, which is the point: the constrained paths must hold whatever it would say.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from PIL import Image
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    AutoModelForImageTextToText,
    AutoProcessor,
    CLIPImageProcessorPil,
    CLIPVisionConfig,
    LlamaConfig,
    LlavaConfig,
    LlavaForConditionalGeneration,
    LlavaProcessor,
    PreTrainedTokenizerFast,
)

IMAGE_SIZE = 28
PATCH = 14
SPECIAL = ["<pad>", "<s>", "</s>", "<image>"]
# A Llama-2-chat-like template: images first in a turn, as the host sends them.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}{{ m['role'] }}: "
    "{% for part in m['content'] %}{% if part['type'] == 'image' %}<image>\n{% else %}{{ part['text'] }}{% endif %}"
    "{% endfor %}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}"
)
CORPUS = [
    '<point x="61.5" y="47.7" alt="Save button">Save button</point>',
    '<points x1="12.3" y1="4.0" x2="40.0" y2="4.0" alt="tabs">tabs</points> There are none.',
    "user: Describe this screenshot: the application, its windows, and the controls. assistant: Point to the",
    '{"steps": [{"action": "click", "target": 3}], "done": false}',
]


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=384,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(CORPUS * 8, trainer)
    return PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        extra_special_tokens={"image_token": "<image>"},
    )


def write_tiny_llava(folder: Path, seed: int = 0) -> Path:
    """Writes config, weights, tokenizer and processor of a random tiny LLaVA to `folder`, as the hub has them."""
    tokenizer = tiny_tokenizer()
    processor = LlavaProcessor(  # type: ignore[no-untyped-call]
        image_processor=CLIPImageProcessorPil(
            size={"shortest_edge": IMAGE_SIZE}, crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}
        ),
        tokenizer=tokenizer,
        patch_size=PATCH,
        vision_feature_select_strategy="default",
        # CLIP's class token, which the "default" strategy drops again.
        num_additional_image_tokens=1,
        image_token="<image>",
        chat_template=CHAT_TEMPLATE,
    )
    ids = {token: int(tokenizer.get_vocab()[token]) for token in SPECIAL}
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=IMAGE_SIZE,
            patch_size=PATCH,
            projection_dim=32,
        ),
        text_config=LlamaConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=2,
            vocab_size=len(tokenizer),
            max_position_embeddings=512,
            bos_token_id=ids["<s>"],
            eos_token_id=ids["</s>"],
            pad_token_id=ids["<pad>"],
        ),
        image_token_index=ids["<image>"],
        vision_feature_layer=-1,
    )
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config)
    model.generation_config.eos_token_id = ids["</s>"]
    model.generation_config.pad_token_id = ids["<pad>"]
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def test_the_tiny_model_loads_offline_through_the_auto_classes(tmp_path: Path) -> None:
    folder = write_tiny_llava(tmp_path / "tiny")
    assert json.loads((folder / "config.json").read_text())["architectures"] == ["LlavaForConditionalGeneration"]
    model = AutoModelForImageTextToText.from_pretrained(folder, local_files_only=True)
    processor = AutoProcessor.from_pretrained(folder, local_files_only=True)  # type: ignore[no-untyped-call]
    conversation = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Describe."}]}]
    text = processor.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
    batch = processor(text=[text], images=[Image.new("RGB", (64, 40), "white")], return_tensors="pt")
    # The processor expands <image> into one token per patch: (28 / 14)² = 4.
    image_id = processor.tokenizer.convert_tokens_to_ids("<image>")
    assert int((batch["input_ids"] == image_id).sum()) == (IMAGE_SIZE // PATCH) ** 2
    logits = model(**batch).logits
    assert logits.shape == (1, batch["input_ids"].shape[1], len(processor.tokenizer))
