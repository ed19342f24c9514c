"""`plan_vram`: the VRAM planner's verdict for a profile on the GPUs the host's telemetry sees now.

All arithmetic is :func:`sightline_host.models.vram.plan_profile`'s; this module only picks the GPUs (from a
telemetry snapshot: live NVML, or a replayed recording) and turns the :class:`~sightline_host.models.vram.Plan`
into the protocol's ``vram_plan`` message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from sightline_host.models.vram import GpuSpec, GpuUsage, Plan, PlannerChoice, Share, plan_profile
from sightline_host.protocol.types import PlannedGpu, PlannedShare, PlannerLayout, VramPlan

if TYPE_CHECKING:
    from sightline_host.models.catalog import Catalog
    from sightline_host.telemetry.snapshot import TelemetrySnapshot


class UnknownProfile(KeyError):
    """The catalog has no such profile; the message names the ones it has."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown profile"


def gpus_from_snapshot(snapshot: TelemetrySnapshot) -> list[GpuSpec]:
    """The snapshot's GPUs as the planner sees them: free = total - what NVML reports in use."""
    return [
        GpuSpec(
            g["index"], g["name"], g["memory_total_bytes"], max(0, g["memory_total_bytes"] - g["memory_used_bytes"])
        )
        for g in snapshot.gpus
    ]


def _layout(choice: PlannerChoice) -> PlannerLayout:
    return {
        "model_id": choice.model_id,
        "tensor": choice.tensor,
        "pipeline": choice.pipeline,
        "context": choice.context,
        "batch": choice.batch,
        "kv_dtype": choice.kv_dtype,
        "gpus": list(choice.gpus),
        "stage_layers": list(choice.stage_layers),
    }


def _share(share: Share) -> PlannedShare:
    return {
        "role": share.role,
        "model_id": share.model_id,
        "weights_bytes": share.weights,
        "kv_cache_bytes": share.kv_cache,
        "activations_bytes": share.activations,
        "workspace_bytes": share.workspace,
        "total_bytes": share.total,
        "detail": share.detail,
    }


def _gpu(usage: GpuUsage) -> PlannedGpu:
    used = usage.shares != ()
    return {
        "index": usage.gpu.index,
        "name": usage.gpu.name,
        "total_bytes": usage.gpu.total_bytes,
        "free_bytes": usage.gpu.free,
        "shares": [_share(s) for s in usage.shares],
        "cuda_context_bytes": usage.cuda_context_bytes if used else 0,
        "comm_bytes": usage.comm_bytes,
        "fragmentation_bytes": usage.fragmentation_bytes if used else 0,
        "used_bytes": usage.used,
        "headroom_bytes": usage.headroom,
        "fits": usage.fits,
    }


def plan_to_message(request_id: str, plan: Plan, snapshot: TelemetrySnapshot) -> VramPlan:
    outcome: Literal["fits", "fits_with_changes", "does_not_fit"]
    if plan.fits:
        outcome = "fits"
    elif plan.chosen is not None:
        outcome = "fits_with_changes"
    else:
        outcome = "does_not_fit"
    message: VramPlan = {
        "type": "vram_plan",
        "id": request_id,
        "profile": plan.profile_id,
        "gpus_from": snapshot.source,
        "outcome": outcome,
        "verdict": plan.verdict,
        "requested": _layout(plan.requested) if plan.requested else None,
        "requested_problems": list(plan.requested_check.reasons) if plan.requested_check else [],
        "chosen": _layout(plan.chosen) if plan.chosen else None,
        "changes": list(plan.changes),
        "gpus": [_gpu(u) for u in plan.gpus],
        "placements": [{"role": role, "gpus": list(gpus)} for role, gpus in plan.placements.items()],
        "unplaced": list(plan.unplaced),
        "cpu": [_share(s) for s in plan.cpu],
        "lines": list(plan.lines),
    }
    if not snapshot.gpus and snapshot.reason:
        message["no_gpu_reason"] = snapshot.reason
    return message


def plan_vram(request_id: str, catalog: Catalog, profile_id: str, snapshot: TelemetrySnapshot) -> VramPlan:
    """Plans ``profile_id`` on the snapshot's GPUs (none: the plan says the profile needs one, or fits on the CPU)."""
    try:
        profile = catalog.profile(profile_id)
    except KeyError as exc:
        raise UnknownProfile(exc.args[0] if exc.args else profile_id) from None
    plan = plan_profile(catalog, profile, gpus_from_snapshot(snapshot))
    return plan_to_message(request_id, plan, snapshot)
