"""Tensor parallelism for the built-in engine: one process per GPU (torch.distributed), Megatron-style.

qkv and gate/up are split by output rows (column-parallel: each rank owns whole heads and a slice of the MLP),
o and down by input columns (row-parallel: each rank holds a partial sum that an all-reduce adds up), the output
projection by vocabulary rows (each rank scores its share of the vocabulary; an all-gather joins the logits).
Every collective is issued on the current stream, so a decode step captures into one CUDA graph with them.

Whether a model may be split at all is the VRAM planner's rule (`sightline_host.models.vram.check_layout`):
heads and KV heads must divide by TP, and so must the MLP into whole quantization groups. The engine adds its
own kernel rule on top: each rank's INT4 inputs must be whole 1024-wide super-groups (`triton_gemv.SUPER`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
import torch.distributed as dist


class LayoutError(ValueError):
    pass


def check_layout(manifest: Any, tp: int) -> None:
    """Raises LayoutError with the VRAM planner's reasons when `manifest` (a catalog ModelManifest) cannot run at TP."""
    from sightline_host.models.vram import check_layout as planner_check  # noqa: PLC0415 - CPU-only host code

    verdict = planner_check(manifest, tp, 1)
    if not verdict.valid:
        raise LayoutError(f"{manifest.id} cannot run with TP={tp}: " + "; ".join(verdict.reasons))


def int4_manifest(manifest: Any, group_size: int = 128) -> Any:
    """The same model described as weight-only INT4 with `group_size` groups (what the engine's INT4 path stores)."""
    from sightline_host.models.catalog import Quantization  # noqa: PLC0415

    quantization = Quantization(method="int4-awq", bits=4, group_size=group_size, zero_point=True)
    return dataclasses.replace(manifest, quantization=quantization)


class TensorParallel:
    """The process group of one model replica and the collectives a decode step needs.

    `reduce_backend`: "nccl" (all_reduce) or "symm" (PyTorch symmetric memory's one-shot all-reduce: each rank
    reads the peers' partial sums straight over NVLink, a lower latency for the step's 16 KB vectors).
    """

    def __init__(self, group: dist.ProcessGroup | None = None, reduce_backend: str = "nccl") -> None:
        world_group = group or dist.group.WORLD
        if world_group is None:
            raise RuntimeError("torch.distributed is not initialized: call init_process_group first")
        self.group: dist.ProcessGroup = world_group
        self.rank = dist.get_rank(self.group)
        self.world = dist.get_world_size(self.group)
        self.reduce_backend = reduce_backend
        self._symm: dict[tuple[int, torch.dtype], torch.Tensor] = {}

    def shard(self, size: int) -> tuple[int, int]:
        if size % self.world:
            raise LayoutError(f"{size} does not divide by TP={self.world}")
        part = size // self.world
        return self.rank * part, (self.rank + 1) * part

    def reduce_buffer(self, like: torch.Tensor) -> torch.Tensor:
        """Where a row-parallel layer writes its partial sum before `all_reduce_into` (like itself for NCCL)."""
        if self.reduce_backend != "symm":
            return like
        key = (like.numel(), like.dtype)
        if key not in self._symm:
            import torch.distributed._symmetric_memory as symm_mem  # noqa: PLC0415

            buffer = symm_mem.empty(like.numel(), dtype=like.dtype, device=like.device)
            symm_mem.rendezvous(buffer, self.group)
            self._symm[key] = buffer
        return self._symm[key]

    def all_reduce_into(self, partial: torch.Tensor, out: torch.Tensor) -> None:
        """out = Σ over ranks of `partial` (the buffer `reduce_buffer(out)` returned)."""
        if self.reduce_backend == "symm":
            torch.ops.symm_mem.one_shot_all_reduce_out(partial, "sum", self.group.group_name, out)
        else:
            dist.all_reduce(partial, group=self.group)
            if partial.data_ptr() != out.data_ptr():
                out.copy_(partial)

    def all_reduce_(self, tensor: torch.Tensor) -> None:
        dist.all_reduce(tensor, group=self.group)

    def all_gather(self, out: torch.Tensor, local: torch.Tensor) -> None:
        dist.all_gather_into_tensor(out, local, group=self.group)
