"""`sightline-host models list | pull | verify | remove | plan`: the model store and the VRAM planner from a shell."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from sightline_host.models.store import ModelStore, ProgressEvent
    from sightline_host.models.vram import GpuSpec

EPILOG = """\
The store lives in $SIGHTLINE_MODELS_DIR, else ~/.cache/sightline/models (--store overrides both).
Downloads go through the Hugging Face hub client: HF_ENDPOINT and HF_TOKEN apply. Offline mode
(--offline, SIGHTLINE_OFFLINE=1 or HF_HUB_OFFLINE=1) never opens a network connection."""


def add_parser(commands: Any) -> None:
    """Adds ``models`` and its commands to the top-level parser's subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--store", type=Path, help="model store folder (default: $SIGHTLINE_MODELS_DIR or ~/.cache/...)"
    )
    common.add_argument("--catalog", type=Path, help="folder with catalog/ and profiles/ (default: the repository's)")
    common.add_argument("--json", action="store_true", help="machine-readable output (JSON; pull: JSON lines)")

    models = commands.add_parser(
        "models",
        help="list, download, verify and remove models; plan GPU memory",
        description="The model catalog, the model store and the VRAM planner.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = models.add_subparsers(dest="models_command", required=True, metavar="COMMAND")
    sub.add_parser("list", parents=[common], help="each catalog model: role, size, source, whether it is here")
    pull = sub.add_parser(
        "pull", parents=[common], help="download and verify models at their pinned revisions (resumes)"
    )
    pull.add_argument("model", nargs="+", help="catalog model id(s)")
    pull.add_argument("--offline", action="store_true", help="never use the network; only check what is there")
    verify = sub.add_parser("verify", parents=[common], help="re-hash models' files against their recorded sha256")
    verify.add_argument("model", nargs="*", help="catalog model id(s) (default: every model that is present)")
    remove = sub.add_parser("remove", parents=[common], help="delete models (and interrupted pulls) from the store")
    remove.add_argument("model", nargs="+", help="catalog model id(s)")
    plan = sub.add_parser("plan", parents=[common], help="does a profile fit these GPUs? with which parallelism?")
    plan.add_argument("profile", help="profile id (embedded, single-gpu, workstation, ...)")
    plan.add_argument(
        "--gpus", help="plan for these GPUs instead of the detected ones, e.g. 3x24GiB, 80GB or 24GiB,24GiB,48GiB"
    )


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    # Imported here so that `serve` does not load the hub client.
    from sightline_host.models.catalog import CatalogError, load_catalog  # noqa: PLC0415
    from sightline_host.models.store import ModelStore, StoreError  # noqa: PLC0415

    try:
        catalog = load_catalog(args.catalog)
    except CatalogError as exc:
        print(f"sightline-host models: {exc}", file=err)
        return 2
    offline = True if getattr(args, "offline", False) else None
    store = ModelStore(catalog, args.store, offline=offline)
    command = args.models_command
    commands: dict[str, Callable[[], int]] = {
        "list": lambda: _list(store, args.json, out),
        "pull": lambda: _pull(store, args.model, args.json, out, err),
        "verify": lambda: _verify(store, args.model, args.json, out, err),
        "remove": lambda: _remove(store, args.model, args.json, out),
        "plan": lambda: _plan(store, args.profile, args.gpus, args.json, out, err),
    }
    try:
        return commands[command]()
    except (StoreError, KeyError, ValueError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        if args.json:
            print(json.dumps({"event": "error", "message": message}), file=out)
        print(f"sightline-host models {command}: {message}", file=err)
        return 1


def _human(n: float | None) -> str:
    if n is None:
        return "?"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{int(n)} B"


def _list(store: ModelStore, as_json: bool, out: TextIO) -> int:
    from sightline_host.models.catalog import HubSource  # noqa: PLC0415
    from sightline_host.models.vram import model_weight_bytes  # noqa: PLC0415

    rows: list[dict[str, Any]] = []
    for st in store.iter_status():
        m = store.catalog.model(st.model_id)
        estimated = st.size_bytes is None
        size = st.size_bytes if st.size_bytes is not None else model_weight_bytes(m)
        if isinstance(m.source, HubSource):
            rev = (m.source.revision or "unpinned")[:12]
            source = f"{m.source.hub}@{rev}"
        else:
            source = f"pip {m.source.package}=={m.source.version}"
        rows.append(
            {
                "id": m.id,
                "role": m.role,
                "size_bytes": size,
                "size_estimated": estimated,
                "source": source,
                "state": st.state,
                "path": str(st.path) if st.path else None,
                "detail": st.detail,
            }
        )
    if as_json:
        print(json.dumps({"store": str(store.root), "offline": store.offline, "models": rows}, indent=2), file=out)
        return 0
    print(f"Model store: {store.root}{' (offline)' if store.offline else ''}", file=out)
    header = f"{'MODEL':<34} {'ROLE':<9} {'SIZE':>11}  {'SOURCE':<64} STATUS"
    print(header, file=out)
    for r in rows:
        shown = ("~" if r["size_estimated"] else "") + _human(r["size_bytes"])
        print(f"{r['id']:<34} {r['role']:<9} {shown:>11}  {r['source']:<64} {r['state']}", file=out)
    notes = [r for r in rows if r["state"] not in ("present", "installed")]
    if notes:
        print("", file=out)
        for r in notes:
            print(f"{r['id']}: {r['detail']}", file=out)
    print("\n~: estimated from the architecture (weights at run precision); exact once pulled.", file=out)
    return 0


class _Bar:
    """A one-line progress bar on a terminal; a line per 10 % step elsewhere (logs, pipes)."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.tty = err.isatty()
        self.last_step = -1

    def __call__(self, e: ProgressEvent) -> None:
        pct = e.percent
        what = e.file or ""
        if e.phase == "resolve":
            print(f"{e.model_id}: resolving the pinned revision ...", file=self.err, flush=True)
            return
        if self.tty:
            filled = int(pct / 100 * 30)
            line = (
                f"\r{e.model_id} [{'#' * filled}{'.' * (30 - filled)}] {pct:5.1f}% "
                f"{_human(e.bytes_done)} / {_human(e.bytes_total)}  {e.files_done}/{e.files_total} {what[:40]:<40}"
            )
            print(line, end="\n" if e.phase == "done" else "", file=self.err, flush=True)
            return
        step = int(pct // 10)
        if step != self.last_step or e.phase == "done":
            self.last_step = step
            print(
                f"{e.model_id}: {pct:5.1f}% ({_human(e.bytes_done)} of {_human(e.bytes_total)}, "
                f"{e.files_done}/{e.files_total} files) {what}",
                file=self.err,
                flush=True,
            )


def _pull(store: ModelStore, models: Sequence[str], as_json: bool, out: TextIO, err: TextIO) -> int:
    from sightline_host.models.store import StoreError  # noqa: PLC0415

    failed = 0
    for model_id in models:

        def emit(e: ProgressEvent) -> None:
            print(json.dumps(e.to_json()), file=out, flush=True)

        try:
            result = store.pull(model_id, emit if as_json else _Bar(err))
        except StoreError as exc:
            failed += 1
            if as_json:
                print(json.dumps({"event": "error", "model_id": model_id, "message": str(exc)}), file=out)
            print(f"sightline-host models pull: {exc}", file=err)
            continue
        if as_json:
            print(
                json.dumps(
                    {
                        "event": "pulled",
                        "model_id": model_id,
                        "path": str(result.path),
                        "revision": result.revision,
                        "downloaded_bytes": result.downloaded_bytes,
                        "already_present": result.already_present,
                        "message": result.message,
                        "notes": list(result.notes),
                    }
                ),
                file=out,
            )
        else:
            print(result.message, file=out)
            for note in result.notes:
                print(f"note: {note}", file=out)
    return 1 if failed else 0


def _verify(store: ModelStore, models: Sequence[str], as_json: bool, out: TextIO, err: TextIO) -> int:
    from sightline_host.models.store import describe_checks  # noqa: PLC0415

    ids = list(models) or [s.model_id for s in store.iter_status() if s.state in ("present", "incomplete", "installed")]
    if not ids:
        print(f"nothing to verify: no model is in {store.root} or installed", file=err)
        return 0
    bad = 0
    report = []
    for model_id in ids:
        checks = store.verify(model_id)
        ok = all(c.ok for c in checks)
        bad += not ok
        report.append(
            {
                "model_id": model_id,
                "ok": ok,
                "files": [
                    {
                        "name": c.name,
                        "ok": c.ok,
                        "path": str(c.path) if c.path else None,
                        "expected_sha256": c.expected_sha256,
                        "actual_sha256": c.actual_sha256,
                        "expected_size": c.expected_size,
                        "actual_size": c.actual_size,
                    }
                    for c in checks
                ],
            }
        )
        if not as_json:
            print(f"{model_id}: {'OK' if ok else 'FAILED'}", file=out)
            for line in describe_checks(checks):
                print(f"  {line}", file=out)
            if not ok:
                print(
                    f"  fix: sightline-host models remove {model_id} && sightline-host models pull {model_id}", file=out
                )
    if as_json:
        print(json.dumps({"models": report}, indent=2), file=out)
    return 1 if bad else 0


def _remove(store: ModelStore, models: Sequence[str], as_json: bool, out: TextIO) -> int:
    results = {model_id: store.remove(model_id) for model_id in models}
    if as_json:
        print(json.dumps({"removed": results}), file=out)
    else:
        for model_id, removed in results.items():
            print(f"{model_id}: {'removed' if removed else 'was not in the store'}", file=out)
    return 0


def detect_gpus() -> tuple[list[GpuSpec], str | None]:
    """The GPUs NVML sees (free memory as NVML reports it), or none and the reason."""
    from sightline_host.telemetry.nvml_source import NvmlSource, NvmlUnavailable  # noqa: PLC0415
    from sightline_host.vram_request import gpus_from_snapshot  # noqa: PLC0415

    try:
        source = NvmlSource()
    except NvmlUnavailable as exc:
        return [], str(exc)
    try:
        snapshot = source.sample()
    finally:
        source.close()
    return gpus_from_snapshot(snapshot), None


def _plan(store: ModelStore, profile_id: str, gpus_text: str | None, as_json: bool, out: TextIO, err: TextIO) -> int:
    from sightline_host.models.vram import parse_gpus, plan_profile  # noqa: PLC0415

    profile = store.catalog.profile(profile_id)
    reason = None
    if gpus_text:
        gpus = parse_gpus(gpus_text)
        where = f"--gpus {gpus_text}"
    else:
        gpus, reason = detect_gpus()
        where = "detected GPUs" if gpus else f"no GPU detected ({reason})"
    plan = plan_profile(store.catalog, profile, gpus)
    if as_json:
        print(
            json.dumps(
                {
                    "profile": profile.id,
                    "gpus": [
                        {"index": g.index, "name": g.name, "total_bytes": g.total_bytes, "free_bytes": g.free}
                        for g in gpus
                    ],
                    "gpus_from": "argument" if gpus_text else "nvml",
                    "no_gpu_reason": reason,
                    "fits_as_requested": plan.fits,
                    "verdict": plan.verdict,
                    "changes": list(plan.changes),
                    "lines": list(plan.lines),
                },
                indent=2,
            ),
            file=out,
        )
    else:
        print(f"Profile {profile.id} on {where}:", file=out)
        print(plan.text, file=out)
        if not gpus_text and not gpus and profile.device != "cpu" and profile.hardware:
            hw = profile.hardware
            print(
                f"\nTo plan for the hardware this profile was written for: "
                f"sightline-host models plan {profile.id} --gpus {hw.gpus}x{hw.gib_per_gpu:g}GiB",
                file=out,
            )
    return 0 if plan.fits else 1
