"""The VRAM planner, against figures worked out by hand (the arithmetic is in the comments)."""

from dataclasses import replace

import pytest

from sightline_host.models.catalog import Catalog, ModelManifest, Quantization, load_catalog
from sightline_host.models.vram import (
    COMM_BUFFER_BYTES,
    CUDA_CONTEXT_BYTES,
    GIB,
    GpuSpec,
    activation_bytes,
    check_layout,
    gpus_like,
    kv_cache_bytes,
    llm_params,
    model_weight_bytes,
    parse_gpus,
    plan_profile,
    rank_weights,
    split_layers,
    valid_layouts,
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def _m(catalog: Catalog, model_id: str) -> ModelManifest:
    return catalog.model(model_id)


# ------------------------------------------------------------------ weights and KV cache


def test_8b_bf16_weights(catalog: Catalog) -> None:
    m = _m(catalog, "llama-3.1-8b-instruct")
    # per layer: q 4096*4096 + k,v 2 * 4096*1024 + o 4096*4096 + MLP 3 * 4096*14336 + 2 norms * 4096
    #          = 16,777,216 * 2 + 8,388,608 + 176,160,768 + 8,192 = 218,112,000
    # 32 * 218,112,000 + embed and lm_head 2 * 128256 * 4096 (1,050,673,152) + final norm 4096 = 8,030,261,248
    assert llm_params(m.architecture) == 8_030_261_248 == m.architecture.params
    # bf16: 2 bytes each = 16,060,522,496 bytes ≈ 16.06 GB (14.96 GiB)
    assert model_weight_bytes(m) == 16_060_522_496


def test_8b_kv_cache_is_exactly_one_gib(catalog: Catalog) -> None:
    arch = _m(catalog, "llama-3.1-8b-instruct").architecture
    # 2 (K,V) * 32 layers * 8 KV heads * 128 head_dim * 8192 tokens * 1 * 2 bytes = 1,073,741,824 = 1 GiB (1.07 GB)
    assert kv_cache_bytes(arch, 8192, 1, "float16") == 2 * 32 * 8 * 128 * 8192 * 2 == 1_073_741_824 == GIB
    # GQA matters: with 32 KV heads (no GQA) it would be 4 GiB.
    assert kv_cache_bytes(replace(arch, kv_heads=32), 8192, 1, "float16") == 4 * GIB
    # fp8 halves it; batch 4 multiplies it; TP=2 gives each rank 4 of the 8 KV heads.
    assert kv_cache_bytes(arch, 8192, 1, "fp8") == GIB // 2
    assert kv_cache_bytes(arch, 8192, 4, "float16") == 4 * GIB
    assert kv_cache_bytes(arch, 8192, 1, "float16", tp=2) == GIB // 2
    # TP=16 > 8 KV heads: each head is replicated on 2 ranks, a rank keeps 1 head, i.e. 1/8 and not 1/16:
    # 2 * 32 * 1 * 128 * 8192 * 2 = 134,217,728
    assert kv_cache_bytes(arch, 8192, 1, "float16", tp=16) == 134_217_728 == GIB // 8


def test_70b_awq_weights(catalog: Catalog) -> None:
    m = _m(catalog, "llama-3.1-70b-instruct-awq-int4")
    assert llm_params(m.architecture) == 70_553_706_496
    # Quantized linear weights per layer: q,o 2 * 8192² = 134,217,728; k,v 2 * 8192*1024 = 16,777,216;
    # MLP 3 * 8192 * 28672 = 704,643,072 → 855,638,016; * 80 = 68,451,041,280 weights.
    #   int4: * 0.5 B                                   = 34,225,520,640
    #   one fp16 scale per 128 weights: /128 * 2 B      =  1,069,547,520
    #   one 4-bit zero per 128 weights: /128 * 0.5 B    =    267,386,880
    # Unquantized, fp16: embed + lm_head 2 * 128256 * 8192 * 2 B = 4,202,692,608;
    #   norms (80 * 2 + 1) * 8192 * 2 B = 2,637,824
    # Total 39,767,785,472 bytes ≈ 39.77 GB (37.04 GiB) — about what the real checkpoint weighs.
    assert model_weight_bytes(m) == 34_225_520_640 + 1_069_547_520 + 267_386_880 + 4_202_692_608 + 2_637_824
    assert model_weight_bytes(m) == 39_767_785_472


def test_70b_awq_per_rank_and_per_stage(catalog: Catalog) -> None:
    m = _m(catalog, "llama-3.1-70b-instruct-awq-int4")
    # TP=2: each rank has half the linear weights (34,225,520,640 → * 0.51953125 B = 17,781,227,520),
    # half the vocabulary of embed and of lm_head (2 * 64128 * 8192 * 2 B = 2,101,346,304), all norms (2,637,824).
    (tp2,) = rank_weights(m, tp=2)
    assert tp2.total == 17_781_227_520 + 2_101_346_304 + 2_637_824 == 19_885_211_648
    # PP=3: 80 layers → 27, 27, 26. One layer = 855,638,016 * 0.51953125 + norms 32,768 = 444,563,456 B.
    assert split_layers(80, 3) == [27, 27, 26]
    s0, s1, s2 = rank_weights(m, tp=1, pp=3)
    assert s1.total == 27 * 444_563_456 == 12_003_213_312
    assert s0.total == 12_003_213_312 + 1_050_673_152 * 2 == 14_104_559_616  # + embed_tokens (fp16)
    assert s2.total == 26 * 444_563_456 + 2_101_346_304 + 16_384 == 13_660_012_544  # + lm_head + final norm
    assert s0.total + s1.total + s2.total == model_weight_bytes(m)


def test_activation_estimate(catalog: Catalog) -> None:
    arch = _m(catalog, "llama-3.1-70b-instruct-awq-int4").architecture
    # 2048 prefill tokens * (4 * 8192 + 2 * 28672 / 2) * 2 B = 251,658,240; + logits 64128 * 4 B = 256,512
    assert activation_bytes(arch, 8192, 1, tp=2) == 251_658_240 + 256_512


# ------------------------------------------------------------------ valid layouts


def test_tp3_is_invalid_for_the_70b(catalog: Catalog) -> None:
    m = _m(catalog, "llama-3.1-70b-instruct-awq-int4")
    check = check_layout(m, 3, 1)
    assert not check.valid
    text = " ".join(check.reasons)
    assert "64 % 3 = 1" in text  # attention heads
    assert "8 % 3 = 2" in text  # KV heads
    assert "28672" in text  # the MLP does not split in three either
    for tp in (1, 2, 4, 8):
        assert check_layout(m, tp, 1).valid, tp
    # TP=16: 64 heads split, 8 KV heads are replicated twice, 28672 / 16 = 1792 = 14 groups of 128.
    sixteen = check_layout(m, 16, 1)
    assert sixteen.valid and "replicated on 2 ranks" in sixteen.notes[0]
    # Pipeline parallelism has no such constraint: PP=3 over 80 layers is fine.
    assert check_layout(m, 1, 3).valid
    assert valid_layouts(m, 3) == [(1, 1), (1, 2), (1, 3), (2, 1)]


def test_awq_groups_must_split_evenly(catalog: Catalog) -> None:
    m = _m(catalog, "qwen2.5-72b-instruct-awq")
    # Padded MLP: 29696 / 2 = 14848 = 116 groups of 128 → TP=2 valid.
    assert check_layout(m, 2, 1).valid
    # The unpadded 29568: 29568 / 2 = 14784 = 115.5 groups → the AWQ kernels refuse TP=2.
    unpadded = replace(m, architecture=replace(m.architecture, intermediate_size=29568))
    check = check_layout(unpadded, 2, 1)
    assert not check.valid and "quantization groups" in check.reasons[0]


def test_gguf_on_llama_cpp_has_no_tensor_parallelism(catalog: Catalog) -> None:
    assert not check_layout(_m(catalog, "qwen2.5-0.5b-instruct-q4_k_m"), 2, 1).valid


# ------------------------------------------------------------------ the seed plan: 3 * 24 GB


def test_seed_plan_on_three_24gb_gpus(catalog: Catalog) -> None:
    gpus = gpus_like(3, 24, "RTX 3090")
    # Three 24 GB cards (24 GiB each, as NVML reports a 3090/4090) are 72 GiB together, not 64.
    assert sum(g.total_bytes for g in gpus) == 72 * GIB != 64 * GIB
    plan = plan_profile(catalog, catalog.profile("workstation"), gpus)
    assert "3 × 24.00 GiB = 72.00 GiB of GPU memory in all" in plan.text

    # The request (TP=3) is invalid, so it does not "fit as requested" whatever the memory says.
    assert plan.requested is not None and (plan.requested.tensor, plan.requested.pipeline) == (3, 1)
    assert plan.requested_check is not None and not plan.requested_check.valid
    assert not plan.fits
    assert "TP=3 × PP=1 is INVALID" in plan.text

    # Nearest plan: TP=2 on GPUs 0 and 1, Molmo and YOLO-World on GPU 2, context unchanged.
    chosen = plan.chosen
    assert chosen is not None
    assert (chosen.model_id, chosen.tensor, chosen.pipeline, chosen.context) == (
        "llama-3.1-70b-instruct-awq-int4",
        2,
        1,
        8192,
    )
    assert chosen.gpus == (0, 1)
    assert plan.placements["vlm"] == (2,) and plan.placements["detector"] == (2,) and plan.placements["ocr"] == ()
    assert plan.changes == ("TP=3 × PP=1 → TP=2 × PP=1",)
    assert plan.verdict.startswith("Does not fit as requested. Nearest plan that fits:")

    # GPU 0 and 1, each: weights 19,885,211,648 + KV 2 * 80 * 4 * 128 * 8192 * 2 = 1,342,177,280
    #   + activations 251,914,752 = 21,479,303,680; + 5% margin 1,073,965,184 + CUDA context 536,870,912
    #   + NCCL 268,435,456 = 23,358,575,232 B = 21.75 GiB of 24 GiB → 2.25 GiB left.
    g0, g1, g2 = plan.gpus
    for g in (g0, g1):
        (share,) = g.shares
        assert (share.weights, share.kv_cache, share.activations) == (19_885_211_648, 1_342_177_280, 251_914_752)
        assert g.fragmentation_bytes == 1_073_965_184
        assert g.cuda_context_bytes == CUDA_CONTEXT_BYTES and g.comm_bytes == COMM_BUFFER_BYTES
        assert g.used == 23_358_575_232 and g.headroom == 24 * GIB - 23_358_575_232 > 2 * GIB
    # GPU 2: Molmo bf16 8.02e9 * 2 = 16,040,000,000 + KV 2 * 28 * 4 * 128 * 4096 * 2 = 234,881,024
    #   + activations 2048 * (4 * 3584 + 2 * 18944) * 2 + 152064 * 4 = 214,517,760 → 16,489,398,784;
    #   YOLO-World fp16 12,759,880 * 2 = 25,519,760 + TensorRT workspace 536,870,912 → 562,390,672;
    #   sum 17,051,789,456 + 5% 852,589,473 (rounded up) + one CUDA context 536,870,912 = 18,441,249,841 (17.17 GiB)
    assert [s.total for s in g2.shares] == [16_489_398_784, 562_390_672]
    assert g2.used == 18_441_249_841
    assert all(g.fits for g in plan.gpus)


def test_seed_plan_pipeline_alternative_leaves_no_room_for_molmo(catalog: Catalog) -> None:
    # TP=1 * PP=3 is valid and the planner alone fits (≤ 14.1 GB of weights per GPU), but then every GPU
    # has ~8 GiB left and Molmo needs ~15.4 GiB: the planner lists it and says why it was not chosen.
    plan = plan_profile(catalog, catalog.profile("workstation"), gpus_like(3, 24))
    (line,) = [c for c in plan.considered if "TP=1 × PP=3" in c]
    assert line.endswith("vlm finds no GPU with room")
    assert any("TP=1 × PP=2" in c and c.endswith("fits") for c in plan.considered)


def test_70b_bf16_does_not_fit_three_24gb_gpus(catalog: Catalog) -> None:
    m = _m(catalog, "llama-3.1-70b-instruct-awq-int4")
    bf16 = replace(
        m, id="llama-3.1-70b-instruct-bf16", quantization=Quantization(method="none", bits=16, dtype="bfloat16")
    )
    # 70,553,706,496 * 2 B = 141,107,412,992 B ≈ 141.1 GB > 72 GiB (77.3 GB) in all.
    assert model_weight_bytes(bf16) == 141_107_412_992 > 72 * GIB
    ws = catalog.profile("workstation")
    planner = replace(ws.models["planner"], model=bf16.id, fallbacks=())
    profile = replace(ws, models={**ws.models, "planner": planner})
    cat = replace(catalog, manifests={**catalog.manifests, bf16.id: bf16})
    plan = plan_profile(cat, profile, gpus_like(3, 24))
    assert not plan.fits and plan.chosen is None
    assert plan.verdict.startswith("Does not fit, and no valid layout")
    assert any("the planner alone does not fit" in c for c in plan.considered)


def test_free_memory_counts_not_total(catalog: Catalog) -> None:
    # The desktop already holds 3 GiB on GPU 0: TP=2 no longer fits on GPUs 0+1 (21.75 > 21 GiB),
    # so the planner takes GPUs 1 and 2 and Molmo goes to GPU 0 (17.17 ≤ 21 GiB).
    gpus = [
        GpuSpec(0, "RTX 3090", 24 * GIB, 21 * GIB),
        GpuSpec(1, "RTX 3090", 24 * GIB),
        GpuSpec(2, "RTX 3090", 24 * GIB),
    ]
    plan = plan_profile(catalog, catalog.profile("workstation"), gpus)
    assert plan.chosen is not None and plan.chosen.gpus == (1, 2) and plan.placements["vlm"] == (0,)


# ------------------------------------------------------------------ the other profiles


def test_single_gpu_on_80gb_fits(catalog: Catalog) -> None:
    plan = plan_profile(catalog, catalog.profile("single-gpu"), gpus_like(1, 80, "H100 80GB"))
    assert plan.fits and plan.changes == ()
    assert plan.verdict.startswith("Fits as requested")
    (g,) = plan.gpus
    # planner: 16,060,522,496 + KV 2 * 32 * 8 * 128 * 16384 * 2 = 2,147,483,648
    #   + activations 2048 * (4 * 4096 + 2 * 14336) * 2 + 128256 * 4 = 185,062,400 → 18,393,068,544
    # Molmo 16,489,398,784 and YOLO-World 562,390,672 as on the workstation → 35,444,858,000
    # + 5% 1,772,242,900 + one CUDA context 536,870,912 = 37,753,971,812 B = 35.16 GiB of 80 GiB
    assert [s.total for s in g.shares] == [18_393_068_544, 16_489_398_784, 562_390_672]
    assert g.used == 37_753_971_812
    assert "35.16 GiB used, 44.84 GiB left" in plan.text


def test_single_gpu_on_24gb_does_not_fit(catalog: Catalog) -> None:
    # 8B bf16 (14.96 GiB) + Molmo bf16 (14.94 GiB) cannot share one 24 GiB card at any context.
    plan = plan_profile(catalog, catalog.profile("single-gpu"), gpus_like(1, 24))
    assert not plan.fits and plan.chosen is None and plan.unplaced == ("vlm",)
    assert "Not placed: vlm molmo-7b-d" in plan.text


def test_embedded_is_cpu_only(catalog: Catalog) -> None:
    plan = plan_profile(catalog, catalog.profile("embedded"), [])
    assert plan.fits and plan.gpus == ()
    # SmolLM2 GGUF: the file as it is, 98,362,432 B; KV 2 * 30 * 3 * 64 * 4096 * 2 = 94,371,840
    smol = next(s for s in plan.cpu if s.role == "planner")
    assert (smol.weights, smol.kv_cache) == (98_362_432, 94_371_840)


def test_gpu_profile_without_gpus(catalog: Catalog) -> None:
    plan = plan_profile(catalog, catalog.profile("workstation"), [])
    assert not plan.fits and "no NVIDIA GPU" in plan.verdict


def test_parse_gpus() -> None:
    assert [g.total_bytes for g in parse_gpus("3x24GiB")] == [24 * GIB] * 3
    assert [g.total_bytes for g in parse_gpus("24, 80GB")] == [24 * GIB, 80_000_000_000]
    assert [g.index for g in parse_gpus("2×24,48")] == [0, 1, 2]
    with pytest.raises(ValueError, match="cannot read"):
        parse_gpus("lots")
