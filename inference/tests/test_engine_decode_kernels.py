"""The decode step's Triton kernels on the CPU (Triton's interpreter): the INT4 GEMV in each tiling against float32
math on its dequantized weight, and the one-kernel attention (chunks merged by the last program) against a
prefill of the same tokens, with the context spread over several chunks."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

os.environ.setdefault("TRITON_INTERPRET", "1")  # before triton is imported: the kernels then run on the CPU

import pytest

if TYPE_CHECKING:
    import torch
else:  # machines without the engine's GPU stack skip this file
    torch = pytest.importorskip("torch")
pytest.importorskip("triton")

from sightline_host.engine.llama import LlamaShape, build_decoder, random_weights, rel_error
from sightline_host.engine.triton_decode import DecodeAttention
from sightline_host.engine.triton_gemv import dequantize_int4, gemv, pack_int4

pytestmark = pytest.mark.skipif(os.environ.get("TRITON_INTERPRET") != "1", reason="needs Triton's CPU interpreter")


def _reference(weight: torch.Tensor, x: torch.Tensor, epilogue: str, gamma: torch.Tensor | None) -> torch.Tensor:
    xx = x if gamma is None else x * torch.rsqrt(x.pow(2).mean() + 1e-5) * gamma.float()
    y = weight.double() @ xx.double()
    if epilogue == "glu":
        gate, up = y.chunk(2)
        return torch.nn.functional.silu(gate) * up
    return y


@pytest.mark.parametrize(
    ("config", "epilogue", "norm"),
    [
        ((8, 2, 1, 1, 1), "store", True),  # 8 rows, 3 super-groups in chunks of 2; 4 rows past N masked
        ((8, 1, 1, 1, 1), "glu", False),  # 4 gate and 4 up rows, chunks of one super-group
        ((4, 2, 2, 1, 1), "add", False),  # split K: 2 super-groups and 1 (its chunk's second skipped)
        ((4, 1, 0, 1, 1), "add", False),  # one split per super-group
        ((32, 2, 1, 1, 1), "glu", True),  # one program past N; a chunk of 2, then one of 1
    ],
)
def test_int4_words_gemv_matches_its_dequantized_weight(
    config: tuple[int, int, int, int, int], epilogue: str, norm: bool
) -> None:
    generator = torch.Generator().manual_seed(sum(config) + len(epilogue))
    n, k = 20, 3072
    weight = torch.randn(n, k, generator=generator) * 0.02
    packed = pack_int4(weight.to(torch.bfloat16), "words")
    x = torch.randn(k, generator=generator) * 3  # RMSNorm must not depend on the input's scale
    gamma = (1 + 0.1 * torch.randn(k, generator=generator)).to(torch.bfloat16) if norm else None
    n_out = n // 2 if epilogue == "glu" else n
    residual = torch.randn(n_out, generator=generator)
    out = residual.clone() if epilogue == "add" else torch.full((n_out,), float("nan"))
    gemv(x, packed, out, epilogue=epilogue, norm_weight=gamma, config=config)
    expected = _reference(packed.dequantize_reference(), x, epilogue, gamma)
    if epilogue == "add":
        expected = expected + residual.double()
    assert not out.isnan().any()
    assert rel_error(out, expected) < 1e-5  # float32 throughout (the GPU's float16 products: ~1e-3)


@pytest.mark.parametrize("layout", ["words", "planes"])
def test_int4_layouts_dequantize_to_their_reference(layout: str) -> None:
    """The prefill path's dequantization kernel, the planes GEMV and a row slice (tensor parallel shards) agree
    with the torch-ops reference of the same packed weight."""
    generator = torch.Generator().manual_seed(7)
    n, k = 12, 2048
    packed = pack_int4((torch.randn(n, k, generator=generator) * 0.02).to(torch.bfloat16), layout)
    reference = packed.dequantize_reference()
    assert rel_error(dequantize_int4(packed, dtype=torch.float32), reference) < 1e-6
    shard = packed.slice_rows(4, 10)
    assert torch.equal(shard.dequantize_reference(), reference[4:10])
    x = torch.randn(k, generator=generator)
    out = torch.full((n,), float("nan"))
    gemv(x, packed, out)
    assert rel_error(out, reference.double() @ x.double()) < 1e-5


@pytest.mark.timeout(600)  # two interpreted decode steps and four prefills: minutes on 2 cores
@pytest.mark.parametrize("quantize", ["none", "int4"])
def test_decode_step_matches_prefill_across_attention_chunks(quantize: str) -> None:
    """A 40-token context over chunks of 16 positions: three programs per KV head, merged by the last one; then
    a second step at a chunk boundary (position 48 opens a new chunk holding only the new token)."""
    shape = LlamaShape(vocab_size=256, hidden_size=1024, intermediate_size=1024, num_layers=1, num_heads=8,
                       num_kv_heads=2)  # fmt: skip
    decoder = build_decoder(shape, random_weights(shape, seed=3, device="cpu"), max_seq=64, quantize=quantize)
    decoder.attention = DecodeAttention(8, 2, shape.head_dim, 64, torch.device("cpu"), chunk=16)
    tokens = torch.randint(0, 256, (49,), generator=torch.Generator().manual_seed(5))
    for prompt in (40, 48):
        with torch.no_grad():
            decoder.prefill(tokens[:prompt], 0)
            decoder.token.fill_(int(tokens[prompt]))
            decoder.position.fill_(prompt)
            decoder.attn_out.fill_(float("nan"))
            decoder.step()
            full = decoder.prefill(tokens[: prompt + 1], 0)
        assert int(decoder.attention.count.abs().sum()) == 0  # the merging program reset the counters
        assert rel_error(decoder.logits, full) < 3e-2
        assert int(decoder.logits.argmax()) == int(full.argmax())
