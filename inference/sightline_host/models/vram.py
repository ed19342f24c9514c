"""The VRAM planner: does a profile's model set fit these GPUs, and with which parallelism?

Everything here is arithmetic on the catalog's figures; nothing is loaded. For each GPU it adds up

* weights — quantized linear layers at ``bits / 8`` bytes per weight, plus one float16 scale per group
  and, with a zero point, one ``bits``-wide zero per group (AWQ/GPTQ: group_size input rows * one output
  column). What a quantized checkpoint leaves unquantized (embed_tokens, lm_head, norms, biases, for
  AWQ/GPTQ) counts at its ``dtype``. Under tensor parallelism (TP) the attention and MLP projections
  and the vocabulary-parallel embedding/lm_head are split over the ranks; norms are replicated; K/V
  projections are split by KV head, and replicated when there are fewer KV heads than ranks. Under
  pipeline parallelism (PP) the layers are split into contiguous stages (the first stages take the
  remainder); the first stage holds embed_tokens, the last one lm_head and the final norm (with tied
  embeddings and PP > 1 the last stage keeps its own copy). Vocabulary padding is ignored.
* KV cache — ``2 (K and V) * layers * KV heads * head_dim * context * batch * bytes(KV dtype)``, per
  rank the layers of its stage and its share of KV heads (``kv_heads / TP``, at least 1).
* activations — a peak-of-one-layer workspace with a fused (flash/SDPA) attention and chunked
  prefill: ``tokens * (4 * hidden + 2 * intermediate / TP) * 2 bytes`` with
  ``tokens = min(context * batch, PREFILL_CHUNK_TOKENS)``, plus float32 logits of the last position
  (``batch * vocab / TP * 4``) on the last stage. Engine workspaces (TensorRT) come from the manifest.
* runtime overhead — ``CUDA_CONTEXT_BYTES`` per GPU for each process that uses it (the host is one
  process; vLLM / TensorRT-LLM / llama.cpp run as another), ``COMM_BUFFER_BYTES`` on each GPU of a
  model split over several GPUs (NCCL), and ``FRAGMENTATION_MARGIN`` of the allocations above.

A plan fits when every GPU's sum is at most its free memory. When the requested plan is invalid or does
not fit, :func:`plan_profile` looks for the nearest plan that does, in this order: other valid TP * PP
layouts at the same context; the same with the context halved (down to ``MIN_CONTEXT``); the profile's
fallback models (e.g. another quantization). It says what changed.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import cast

from sightline_host.models.catalog import Architecture, Assignment, Catalog, ModelManifest, Parallel, Profile, Role

KIB = 1 << 10
MIB = 1 << 20
GIB = 1 << 30

#: A CUDA context (driver, kernels, cuBLAS/cuDNN handles) per GPU per process. 300-600 MiB is typical.
CUDA_CONTEXT_BYTES = 512 * MIB
#: NCCL buffers on each GPU of a model that spans several GPUs.
COMM_BUFFER_BYTES = 256 * MIB
#: Allocator fragmentation and small untracked buffers, as a fraction of weights + KV + activations.
FRAGMENTATION_MARGIN = 0.05
#: Chunked-prefill size used for the activation estimate.
PREFILL_CHUNK_TOKENS = 2048
#: The planner never proposes a context shorter than this.
MIN_CONTEXT = 2048

DTYPE_BYTES: Mapping[str, int] = {"float32": 4, "float16": 2, "bfloat16": 2}
#: KV dtype → (numerator, denominator) bytes per element; llama.cpp's q8_0 / q4_0 carry a scale per 32.
KV_BYTES: Mapping[str, tuple[int, int]] = {
    "float32": (4, 1),
    "float16": (2, 1),
    "bfloat16": (2, 1),
    "fp8": (1, 1),
    "q8_0": (34, 32),
    "q4_0": (18, 32),
}
_GROUP_QUANT = {"int4-awq", "int4-gptq"}
_ONE_BYTE_QUANT = {"int8", "fp8"}
_HOST_ENGINES = {"builtin", "onnxruntime", "rapidocr"}


def gib(n: float) -> str:
    return f"{n / GIB:.2f} GiB"


def gb(n: float) -> str:
    return f"{n / 1e9:.2f} GB"


# --------------------------------------------------------------------------------------------- GPUs


@dataclass(frozen=True)
class GpuSpec:
    index: int
    name: str
    total_bytes: int
    free_bytes: int | None = None  # None: assume all of it is free

    @property
    def free(self) -> int:
        return self.total_bytes if self.free_bytes is None else self.free_bytes


def gpus_like(count: int, gib_each: float, name: str = "GPU") -> list[GpuSpec]:
    """``count`` identical GPUs of ``gib_each`` GiB, all free (a "24 GB" GeForce card has 24 GiB)."""
    size = int(gib_each * GIB)
    return [GpuSpec(i, name, size) for i in range(count)]


def parse_gpus(text: str) -> list[GpuSpec]:
    """``"3x24GiB"``, ``"24GiB,24GiB,80GB"`` or ``"2x24"`` (GiB when no unit) → GPU specs, for the CLI."""
    out: list[GpuSpec] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        match = _GPU_TEXT.fullmatch(part)
        if match is None:
            raise ValueError(f"cannot read GPU size {part!r} (try 3x24GiB or 80GB)")
        count = int(match.group(1) or "1")
        unit = (match.group(3) or "gib").lower()
        size = float(match.group(2)) * (1e9 if unit == "gb" else GIB)
        start = len(out)
        out.extend(GpuSpec(start + i, "GPU", int(size)) for i in range(count))
    if not out:
        raise ValueError(f"no GPUs in {text!r}")
    return out


_GPU_TEXT = re.compile(r"(?:(\d+)[x×])?(\d+(?:\.\d+)?)(gib|gb)?", re.IGNORECASE)


# ------------------------------------------------------------------------------------- arithmetic


def kv_heads_per_rank(arch: Architecture, tp: int) -> int:
    assert arch.kv_heads
    return max(1, arch.kv_heads // tp)


def kv_cache_bytes(
    arch: Architecture, context: int, batch: int, kv_dtype: str, tp: int = 1, layers: int | None = None
) -> int:
    """``2 * layers * KV heads (per rank) * head_dim * context * batch * bytes(kv_dtype)``."""
    assert arch.layers and arch.head_dim
    n_layers = arch.layers if layers is None else layers
    num, den = KV_BYTES[kv_dtype]
    elements = 2 * n_layers * kv_heads_per_rank(arch, tp) * arch.head_dim * context * batch
    return math.ceil(elements * num / den)


def _linear_bytes(params: int, m: ModelManifest) -> int:
    q = m.quantization
    if q.method == "none":
        return params * DTYPE_BYTES[q.dtype or "bfloat16"]
    if q.method in _GROUP_QUANT:
        assert q.group_size
        groups = math.ceil(params / q.group_size)
        zeros = groups * q.bits / 8 if q.zero_point else 0
        return math.ceil(params * q.bits / 8 + groups * 2 + zeros)
    if q.method in _ONE_BYTE_QUANT:
        return params
    # GGUF block formats: effective bits per weight, scales included.
    bpw = q.bits_per_weight or q.bits
    return math.ceil(params * bpw / 8)


def _plain_bytes(params: int, m: ModelManifest, part: str) -> int:
    q = m.quantization
    if q.method == "none" or part in q.unquantized:
        return params * DTYPE_BYTES[q.dtype or "bfloat16"]
    return _linear_bytes(params, m)


@dataclass(frozen=True)
class RankWeights:
    """Weight bytes held by one rank of one pipeline stage."""

    stage: int
    layers: int
    blocks: int  # decoder blocks: quantized linear weights + scales/zeros + norms + biases
    embed: int
    lm_head: int
    other: int  # vision tower + connector, final norm

    @property
    def total(self) -> int:
        return self.blocks + self.embed + self.lm_head + self.other


def split_layers(layers: int, pp: int) -> list[int]:
    """Contiguous stages, as even as possible; the first stages take the remainder (80 / 3 → 27, 27, 26)."""
    base, extra = divmod(layers, pp)
    return [base + (1 if s < extra else 0) for s in range(pp)]


def llm_params(arch: Architecture) -> int:
    """Parameters of the language model from its figures (attention, MLP, biases, norms, embeddings)."""
    assert arch.layers and arch.hidden_size and arch.attention_heads and arch.head_dim and arch.vocab_size
    assert arch.intermediate_size
    h, hd = arch.hidden_size, arch.head_dim
    q = h * arch.attention_heads * hd
    kv = 2 * h * kv_heads_per_rank(arch, 1) * hd
    mlp = 3 * h * arch.intermediate_size
    bias = (arch.attention_heads * hd + 2 * kv_heads_per_rank(arch, 1) * hd) if arch.qkv_bias else 0
    per_layer = 2 * q + kv + mlp + bias + 2 * h
    heads = arch.vocab_size * h * (1 if arch.tie_word_embeddings else 2)
    return arch.layers * per_layer + heads + h


def rank_weights(m: ModelManifest, tp: int = 1, pp: int = 1) -> list[RankWeights]:
    """Per pipeline stage, what one of its ``tp`` ranks holds."""
    a = m.architecture
    if not a.is_transformer:
        return [RankWeights(0, 0, 0, 0, 0, model_weight_bytes(m))]
    assert a.layers and a.hidden_size and a.attention_heads and a.head_dim and a.vocab_size and a.intermediate_size
    h, hd = a.hidden_size, a.head_dim
    kvr = kv_heads_per_rank(a, tp)
    linear = (2 * h * a.attention_heads * hd + 3 * h * a.intermediate_size) // tp + 2 * h * kvr * hd
    bias = (a.attention_heads * hd // tp + 2 * kvr * hd) if a.qkv_bias else 0
    block = _linear_bytes(linear, m) + _plain_bytes(bias, m, "biases") + _plain_bytes(2 * h, m, "norms")
    vocab_shard = math.ceil(a.vocab_size / tp) * h
    embed = _plain_bytes(vocab_shard, m, "embed_tokens")
    head = _plain_bytes(vocab_shard, m, "lm_head")
    rest = max(0, a.params - llm_params(a))  # vision tower + connector of a VLM
    out: list[RankWeights] = []
    for s, n in enumerate(split_layers(a.layers, pp)):
        first, last = s == 0, s == pp - 1
        needs_head = last and (not a.tie_word_embeddings or pp > 1)
        other = (_plain_bytes(h, m, "norms") if last else 0) + (_plain_bytes(rest, m, "vision") if first else 0)
        out.append(RankWeights(s, n, n * block, embed if first else 0, head if needs_head else 0, other))
    return out


def model_weight_bytes(m: ModelManifest) -> int:
    """All weights of a model on one device, in the precision it runs at."""
    a, q = m.architecture, m.quantization
    if q.method.startswith("gguf") and all(f.size_bytes for f in m.files):
        return sum(f.size_bytes or 0 for f in m.files)  # llama.cpp maps the file as it is
    if a.is_transformer:
        return rank_weights(m)[0].total
    args = m.runtime.args or {}
    if args.get("trt_fp16"):
        return a.params * 2
    if all(f.size_bytes for f in m.files):
        return sum(f.size_bytes or 0 for f in m.files)
    return a.params * DTYPE_BYTES[q.dtype or "float32"]


def activation_bytes(arch: Architecture, context: int, batch: int, tp: int = 1, last_stage: bool = True) -> int:
    if not arch.is_transformer:
        return 0
    assert arch.hidden_size and arch.intermediate_size and arch.vocab_size
    tokens = min(context * batch, PREFILL_CHUNK_TOKENS)
    layer = tokens * (4 * arch.hidden_size + 2 * arch.intermediate_size // tp) * 2
    logits = batch * math.ceil(arch.vocab_size / tp) * 4 if last_stage else 0
    return layer + logits


# ------------------------------------------------------------------------------------- validity


@dataclass(frozen=True)
class LayoutCheck:
    tensor: int
    pipeline: int
    valid: bool
    reasons: tuple[str, ...]  # why it is invalid
    notes: tuple[str, ...] = ()  # e.g. KV-head replication


def check_layout(m: ModelManifest, tp: int, pp: int) -> LayoutCheck:
    a = m.architecture
    reasons: list[str] = []
    notes: list[str] = []
    if tp > 1 or pp > 1:
        if not a.is_transformer:
            reasons.append(f"{m.id} is not a transformer; it runs on one device")
            return LayoutCheck(tp, pp, False, tuple(reasons))
        if m.runtime.engine == "llama.cpp" and tp > 1:
            reasons.append("llama.cpp has no tensor parallelism")
    if a.is_transformer:
        assert a.attention_heads and a.kv_heads and a.intermediate_size and a.layers
        heads, kv, inter = a.attention_heads, a.kv_heads, a.intermediate_size
        if heads % tp:
            reasons.append(f"{heads} attention heads do not divide by TP={tp} ({heads} % {tp} = {heads % tp})")
        if kv >= tp:
            if kv % tp:
                reasons.append(f"{kv} KV heads do not divide by TP={tp} ({kv} % {tp} = {kv % tp})")
        elif tp % kv:
            reasons.append(f"TP={tp} is more than {kv} KV heads and not a multiple of it, so they cannot be replicated")
        else:
            notes.append(f"TP={tp} > {kv} KV heads: each KV head is replicated on {tp // kv} ranks")
        g = m.quantization.group_size if m.quantization.method in _GROUP_QUANT else None
        if inter % tp:
            reasons.append(f"intermediate size {inter} does not divide by TP={tp}")
        elif g and (inter // tp) % g:
            reasons.append(
                f"intermediate size {inter} / TP={tp} = {inter // tp} is not a whole number of "
                f"{g}-wide quantization groups ({inter // g} groups)"
            )
        if pp > a.layers:
            reasons.append(f"PP={pp} is more stages than {a.layers} layers")
    return LayoutCheck(tp, pp, not reasons, tuple(reasons), tuple(notes))


def valid_layouts(m: ModelManifest, max_gpus: int) -> list[tuple[int, int]]:
    return [
        (tp, pp)
        for tp in range(1, max_gpus + 1)
        for pp in range(1, max_gpus // tp + 1)
        if check_layout(m, tp, pp).valid
    ]


# ------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Share:
    """One model's memory on one GPU (or on the CPU)."""

    model_id: str
    role: Role
    weights: int
    kv_cache: int
    activations: int
    workspace: int = 0
    detail: str = ""

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.activations + self.workspace


@dataclass(frozen=True)
class GpuUsage:
    gpu: GpuSpec
    shares: tuple[Share, ...]
    processes: tuple[str, ...]
    comm_bytes: int

    @property
    def allocated(self) -> int:
        return sum(s.total for s in self.shares)

    @property
    def cuda_context_bytes(self) -> int:
        return CUDA_CONTEXT_BYTES * len(self.processes)

    @property
    def fragmentation_bytes(self) -> int:
        return math.ceil(self.allocated * FRAGMENTATION_MARGIN)

    @property
    def used(self) -> int:
        if not self.shares:
            return 0
        return self.allocated + self.cuda_context_bytes + self.comm_bytes + self.fragmentation_bytes

    @property
    def headroom(self) -> int:
        return self.gpu.free - self.used

    @property
    def fits(self) -> bool:
        return self.headroom >= 0


@dataclass(frozen=True)
class PlannerChoice:
    model_id: str
    context: int
    batch: int
    kv_dtype: str
    tensor: int
    pipeline: int
    gpus: tuple[int, ...] = ()  # rank order: stage-major
    stage_layers: tuple[int, ...] = ()

    def describe(self) -> str:
        return (
            f"{self.model_id}: TP={self.tensor} × PP={self.pipeline}, context {self.context}, "
            f"batch {self.batch}, KV {self.kv_dtype}"
        )


@dataclass(frozen=True)
class Plan:
    profile_id: str
    fits: bool
    verdict: str
    requested: PlannerChoice | None
    requested_check: LayoutCheck | None
    chosen: PlannerChoice | None
    gpus: tuple[GpuUsage, ...]
    placements: Mapping[str, tuple[int, ...]]  # role → GPU indices ("cpu" roles map to ())
    unplaced: tuple[str, ...]
    cpu: tuple[Share, ...]
    changes: tuple[str, ...]
    considered: tuple[str, ...]
    lines: tuple[str, ...] = field(default=())

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


# ------------------------------------------------------------------------------------- placement


@dataclass
class _Gpu:
    spec: GpuSpec
    shares: list[Share]
    processes: set[str]
    comm: int = 0

    def usage(self) -> GpuUsage:
        return GpuUsage(self.spec, tuple(self.shares), tuple(sorted(self.processes)), self.comm)


def _process(m: ModelManifest) -> str:
    return "host" if m.runtime.engine in _HOST_ENGINES else f"{m.runtime.engine}:{m.id}"


def _model_share(m: ModelManifest, a: Assignment, role: Role) -> Share:
    arch = m.architecture
    ctx = a.context or (arch.max_context or 0)
    weights = model_weight_bytes(m)
    kv = kv_cache_bytes(arch, ctx, a.batch, a.kv_dtype or "bfloat16") if arch.is_transformer else 0
    act = activation_bytes(arch, ctx, a.batch) if arch.is_transformer else 0
    return Share(m.id, role, weights, kv, act, m.runtime.workspace_bytes)


@dataclass(frozen=True)
class _Attempt:
    choice: PlannerChoice
    usages: tuple[GpuUsage, ...]
    placements: Mapping[str, tuple[int, ...]]
    unplaced: tuple[str, ...]
    planner_fits: bool

    @property
    def fits(self) -> bool:
        return self.planner_fits and not self.unplaced and all(u.fits for u in self.usages)

    @property
    def deficit(self) -> int:
        return sum(max(0, -u.headroom) for u in self.usages)


def _place(
    catalog: Catalog,
    profile: Profile,
    choice: PlannerChoice,
    gpus: Sequence[GpuSpec],
    planner_gpus: Sequence[int],
) -> _Attempt:
    pm = catalog.model(choice.model_id)
    state = {g.index: _Gpu(g, [], set()) for g in gpus}
    stages = rank_weights(pm, choice.tensor, choice.pipeline)
    spans = choice.tensor * choice.pipeline > 1
    for r, idx in enumerate(planner_gpus):
        st = stages[r // choice.tensor]
        last = st.stage == choice.pipeline - 1
        kv = kv_cache_bytes(pm.architecture, choice.context, choice.batch, choice.kv_dtype, choice.tensor, st.layers)
        act = activation_bytes(pm.architecture, choice.context, choice.batch, choice.tensor, last)
        detail = f"stage {st.stage} ({st.layers} layers), TP rank {r % choice.tensor}"
        g = state[idx]
        g.shares.append(Share(pm.id, "planner", st.total, kv, act, 0, detail))
        g.processes.add(_process(pm))
        if spans:
            g.comm += COMM_BUFFER_BYTES
    planner_fits = all(state[i].usage().fits for i in planner_gpus)
    placements: dict[str, tuple[int, ...]] = {"planner": tuple(planner_gpus)}
    unplaced: list[str] = []
    aux: list[tuple[Role, ModelManifest, Share]] = []
    for role, a in profile.models.items():
        if role == "planner":
            continue
        m = catalog.model(a.model)
        if (a.device or m.runtime.device) == "cpu":
            placements[role] = ()
            continue
        aux.append((role, m, _model_share(m, a, role)))
    for role, m, share in sorted(aux, key=lambda t: -t[2].total):
        best: tuple[int, int] | None = None
        for idx, g in state.items():
            trial = _Gpu(g.spec, [*g.shares, share], g.processes | {_process(m)}, g.comm)
            room = trial.usage().headroom
            if room >= 0 and (best is None or room > best[1]):
                best = (idx, room)
        if best is None:
            unplaced.append(role)
            continue
        g = state[best[0]]
        g.shares.append(share)
        g.processes.add(_process(m))
        placements[role] = (best[0],)
    return _Attempt(choice, tuple(state[g.index].usage() for g in gpus), placements, tuple(unplaced), planner_fits)


def _attempts(
    catalog: Catalog, profile: Profile, base: PlannerChoice, layouts: Iterable[tuple[int, int]], gpus: Sequence[GpuSpec]
) -> list[_Attempt]:
    m = catalog.model(base.model_id)
    n_layers = m.architecture.layers or 1
    out: list[_Attempt] = []
    for tp, pp in layouts:
        k = tp * pp
        if k > len(gpus):
            continue
        best: _Attempt | None = None
        for subset in itertools.combinations([g.index for g in gpus], k):
            choice = replace(base, tensor=tp, pipeline=pp, gpus=subset, stage_layers=tuple(split_layers(n_layers, pp)))
            att = _place(catalog, profile, choice, gpus, subset)
            key = (not att.fits, len(att.unplaced), att.deficit)
            if best is None or key < (not best.fits, len(best.unplaced), best.deficit):
                best = att
        if best is not None:
            out.append(best)
    return out


def _rank(att: _Attempt, want_gpus: int) -> tuple[int, int, int, int, int]:
    c = att.choice
    min_room = min((u.headroom for u in att.usages if u.shares), default=0)
    return (abs(c.tensor * c.pipeline - want_gpus), c.pipeline, -c.tensor, -min_room, len(c.gpus))


# ------------------------------------------------------------------------------------- planning


def _cpu_shares(catalog: Catalog, profile: Profile, roles: Iterable[Role]) -> list[Share]:
    out = []
    for role in roles:
        a = profile.models[role]
        out.append(_model_share(catalog.model(a.model), a, role))
    return out


def _usage_line(u: GpuUsage, roles: Mapping[str, str]) -> str:
    parts = []
    for s in u.shares:
        label = roles.get(s.model_id, s.role)
        bits = [f"weights {gib(s.weights)}"]
        if s.kv_cache:
            bits.append(f"KV {gib(s.kv_cache)}")
        if s.activations:
            bits.append(f"activations {gib(s.activations)}")
        if s.workspace:
            bits.append(f"workspace {gib(s.workspace)}")
        parts.append(f"{label} {s.model_id} [{', '.join(bits)}]")
    if not parts:
        return f"GPU {u.gpu.index} ({u.gpu.name}, {gib(u.gpu.free)} free): unused"
    overhead = [f"CUDA context {gib(u.cuda_context_bytes)} ({len(u.processes)} process)"]
    if u.comm_bytes:
        overhead.append(f"NCCL {gib(u.comm_bytes)}")
    overhead.append(f"fragmentation margin {gib(u.fragmentation_bytes)}")
    state = "fits" if u.fits else "DOES NOT FIT"
    return (
        f"GPU {u.gpu.index} ({u.gpu.name}, {gib(u.gpu.free)} free): "
        + " + ".join(parts)
        + " + "
        + " + ".join(overhead)
        + f" = {gib(u.used)} used, {gib(abs(u.headroom))} {'left' if u.fits else 'short'} — {state}"
    )


def _weights_line(m: ModelManifest) -> str:
    q = m.quantization
    total = model_weight_bytes(m)
    if q.method in _GROUP_QUANT and m.architecture.is_transformer:
        a = m.architecture
        assert a.vocab_size and a.hidden_size
        heads = a.vocab_size * a.hidden_size * (1 if a.tie_word_embeddings else 2)
        linear = llm_params(a) - heads - a.hidden_size * (2 * (a.layers or 0) + 1)
        return (
            f"{m.id} weights: {gb(total)} ({gib(total)}): {q.method} — {linear / 1e9:.2f}B linear weights × "
            f"{q.bits / 8:g} B + a float16 scale{' and a 4-bit zero' if q.zero_point else ''} per {q.group_size}; "
            f"embed_tokens + lm_head ({heads / 1e9:.2f}B) and norms in {q.dtype}"
        )
    return f"{m.id} weights: {gb(total)} ({gib(total)}) — {m.architecture.params / 1e9:.2f}B params, " + (
        f"unquantized {q.dtype}" if q.method == "none" else q.method
    )


def _cpu_plan(catalog: Catalog, profile: Profile) -> Plan:
    shares = _cpu_shares(catalog, profile, profile.models)
    total = sum(s.total for s in shares)
    verdict = f"Fits: CPU only, about {gib(total)} of system memory in all."
    lines = [verdict, f"Profile {profile.id}: CPU only; no GPU needed."]
    for s in shares:
        lines.append(
            f"{s.role} {s.model_id}: weights {gib(s.weights)}"
            + (f" + KV {gib(s.kv_cache)} + activations {gib(s.activations)}" if s.kv_cache else "")
            + (f" + workspace {gib(s.workspace)}" if s.workspace else "")
            + f" = {gib(s.total)} of system memory"
        )
    return Plan(profile.id, True, verdict, None, None, None, (), {}, (), tuple(shares), (), (), tuple(lines))


@dataclass
class _Search:
    """Tries plans in order of distance from the request; remembers what it tried."""

    catalog: Catalog
    profile: Profile
    gpus: Sequence[GpuSpec]
    want: int
    considered: list[str] = field(default_factory=list)
    best_partial: _Attempt | None = None

    def consider(self, base: PlannerChoice, layouts: Iterable[tuple[int, int]]) -> _Attempt | None:
        atts = _attempts(self.catalog, self.profile, base, layouts, self.gpus)
        for att in atts:
            c = att.choice
            if att.fits:
                why = "fits"
            elif not att.planner_fits:
                why = "the planner alone does not fit"
            elif att.unplaced:
                why = ", ".join(att.unplaced) + (" finds" if len(att.unplaced) == 1 else " find") + " no GPU with room"
            else:
                why = "over memory"
            self.considered.append(f"{c.describe()} on GPUs {list(c.gpus)}: {why}")
            if not att.fits and (
                self.best_partial is None
                or (len(att.unplaced), att.deficit) < (len(self.best_partial.unplaced), self.best_partial.deficit)
            ):
                self.best_partial = att
        fitting = [a for a in atts if a.fits]
        return min(fitting, key=lambda a: _rank(a, self.want)) if fitting else None

    def run(self, requested: PlannerChoice, fallbacks: Sequence[str]) -> _Attempt | None:
        pm = self.catalog.model(requested.model_id)
        n = len(self.gpus)
        asked = (requested.tensor, requested.pipeline)
        # 1. as requested
        if check_layout(pm, *asked).valid and self.want <= n:
            found = self.consider(requested, [asked])
            if found:
                return found
        # 2. other valid layouts at the same context
        found = self.consider(requested, [lay for lay in valid_layouts(pm, n) if lay != asked])
        # 3. shorter context
        ctx = requested.context
        while found is None and ctx // 2 >= MIN_CONTEXT:
            ctx //= 2
            found = self.consider(replace(requested, context=ctx), valid_layouts(pm, n))
        # 4. fallback models (e.g. another quantization), longest context first
        for fb in fallbacks:
            fm = self.catalog.model(fb)
            fctx = min(requested.context, fm.architecture.max_context or requested.context)
            while found is None and fctx >= MIN_CONTEXT:
                found = self.consider(replace(requested, model_id=fb, context=fctx), valid_layouts(fm, n))
                fctx //= 2
        return found


def _changes(requested: PlannerChoice, c: PlannerChoice) -> list[str]:
    changes = []
    if c.model_id != requested.model_id:
        changes.append(f"planner model {requested.model_id} → {c.model_id}")
    if (c.tensor, c.pipeline) != (requested.tensor, requested.pipeline):
        changes.append(f"TP={requested.tensor} × PP={requested.pipeline} → TP={c.tensor} × PP={c.pipeline}")
    if c.context != requested.context:
        changes.append(f"context {requested.context} → {c.context}")
    return changes


def planner_memory_fraction(usages: Sequence[GpuUsage]) -> float:
    """The largest share of any one GPU that the planner's weights, KV cache and overheads need."""
    util = 0.0
    for u in usages:
        share = sum(s.total for s in u.shares if s.role == "planner")
        if share:
            need = share + CUDA_CONTEXT_BYTES + u.comm_bytes + math.ceil(share * FRAGMENTATION_MARGIN)
            util = max(util, need / u.gpu.total_bytes)
    return util


def _vllm_line(result: _Attempt) -> str:
    util = planner_memory_fraction(result.usages)
    return (
        f"vLLM: pass --gpu-memory-utilization {math.ceil(util * 100) / 100:.2f} (this plan's share of each of "
        "its GPUs); otherwise vLLM sizes its KV cache to fill 90% of them."
    )


def _gpu_lines(catalog: Catalog, profile: Profile, result: _Attempt, chosen: bool) -> list[str]:
    roles = {profile.models[r].model: r for r in profile.models}
    lines = ["Per GPU (" + ("chosen plan" if chosen else "closest attempt") + "):"]
    lines.extend("  " + _usage_line(u, roles) for u in result.usages)
    for role in result.unplaced:
        a = profile.models[cast(Role, role)]
        need = _model_share(catalog.model(a.model), a, cast(Role, role))
        lines.append(
            f"  Not placed: {role} {a.model} needs {gib(need.total)} plus overheads; "
            f"the most any GPU has left is {gib(max(u.headroom for u in result.usages))}."
        )
    if chosen and catalog.model(result.choice.model_id).runtime.engine == "vllm":
        lines.append(_vllm_line(result))
    return lines


def _requested(profile: Profile, pm: ModelManifest) -> PlannerChoice:
    pa = profile.models["planner"]
    par = pa.parallel or Parallel(1, 1)
    return PlannerChoice(
        pm.id,
        pa.context or (pm.architecture.max_context or MIN_CONTEXT),
        pa.batch,
        pa.kv_dtype or "bfloat16",
        par.tensor,
        par.pipeline,
    )


def _capacity_line(gpus: Sequence[GpuSpec]) -> str:
    total = sum(g.total_bytes for g in gpus)
    free = sum(g.free for g in gpus)
    if gpus and len({g.total_bytes for g in gpus}) == 1:
        return f"{len(gpus)} × {gib(gpus[0].total_bytes)} = {gib(total)} of GPU memory in all, {gib(free)} free."
    return f"{len(gpus)} GPUs, {gib(total)} of GPU memory in all, {gib(free)} free."


def plan_profile(catalog: Catalog, profile: Profile, gpus: Sequence[GpuSpec]) -> Plan:
    """Check ``profile`` against ``gpus``; when it does not fit or is invalid, find the nearest plan that does."""
    pa = profile.models["planner"]
    pm = catalog.model(pa.model)
    gpu_roles = [r for r, a in profile.models.items() if (a.device or catalog.model(a.model).runtime.device) != "cpu"]
    cpu_roles = [r for r in profile.models if r not in gpu_roles]
    if profile.device == "cpu" or "planner" not in gpu_roles:
        return _cpu_plan(catalog, profile)

    requested = _requested(profile, pm)
    cpu = tuple(_cpu_shares(catalog, profile, cpu_roles))
    lines = [_capacity_line(gpus)]
    if not gpus:
        verdict = "Does not fit: no NVIDIA GPU was found and this profile needs one."
        return Plan(
            profile.id, False, verdict, requested, None, None, (), {}, tuple(gpu_roles), cpu, (), (), (verdict, *lines)
        )

    want = requested.tensor * requested.pipeline
    lines.append("Requested planner " + requested.describe() + ".")
    lines.append(_weights_line(pm))
    check = check_layout(pm, requested.tensor, requested.pipeline)
    if not check.valid:
        lines.append(f"TP={requested.tensor} × PP={requested.pipeline} is INVALID: " + "; ".join(check.reasons) + ".")
    lines.extend(check.notes)
    if want > len(gpus):
        lines.append(f"The requested layout needs {want} GPUs; there are {len(gpus)}.")

    search = _Search(catalog, profile, gpus, want)
    chosen = search.run(requested, pa.fallbacks)
    result = chosen or search.best_partial
    changes: list[str] = []
    if chosen is not None:
        c = chosen.choice
        changes = _changes(requested, c)
        where = ", ".join(
            f"{r} on GPU {','.join(map(str, g))}" if g else f"{r} on CPU" for r, g in chosen.placements.items()
        )
        stages = f" (layers per stage {list(c.stage_layers)})" if c.pipeline > 1 else ""
        if not changes:
            verdict = f"Fits as requested: {c.describe()}{stages}; {where}."
        else:
            verdict = f"Does not fit as requested. Nearest plan that fits: {c.describe()}{stages}; {where}."
            lines.append("Changed: " + "; ".join(changes) + ".")
    else:
        verdict = "Does not fit, and no valid layout, shorter context or fallback model fits these GPUs."
    lines.insert(0, verdict)
    if result is not None:
        lines.extend(_gpu_lines(catalog, profile, result, chosen is not None))
    lines.extend(f"{s.role} {s.model_id} runs on the CPU: about {gib(s.total)} of system memory." for s in cpu)
    if search.considered:
        lines.append("Layouts considered:")
        lines.extend("  " + c for c in search.considered)
    return Plan(
        profile_id=profile.id,
        fits=chosen is not None and not changes,
        verdict=verdict,
        requested=requested,
        requested_check=check,
        chosen=chosen.choice if chosen else None,
        gpus=result.usages if result else (),
        placements=dict(result.placements) if result else {},
        unplaced=result.unplaced if result else tuple(gpu_roles),
        cpu=cpu,
        changes=tuple(changes),
        considered=tuple(search.considered),
        lines=tuple(lines),
    )
