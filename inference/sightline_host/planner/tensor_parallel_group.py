"""Tensor parallelism behind the endpoint: the host process is rank 0 and serves the requests; every further GPU
gets a follower process that holds its shard of the model and takes each step rank 0 takes.

The ranks must launch the same work in the same order, because a step's all-reduces pair up across them, but
only rank 0 decides anything: it tokenizes, runs the grammar and picks each token from the all-gathered logits.
A follower receives ("prefill", tokens) and ("feed", token) over a pipe, sent before rank 0 launches its own
part so that rank 0's first collective finds the followers already under way, and it places the picked token
where its own pick would have put it. Nothing else crosses the pipe, so the cost is one small message per token.

A follower speaks only to say that it failed. Rank 0 reads the pipes before every step: the request ends with
the follower's reason, the engine reports itself unhealthy and the registry loads it afresh on the next request.
A follower that dies in the middle of a step cannot be noticed that way (rank 0 waits inside the collective);
that is the price of keeping the step a CUDA graph.

The ranks meet through a file store in a private temporary folder and talk over the loopback interface only, so
splitting a model opens no port to the network. On a machine without GPUs the same code runs over gloo on the
CPU, which is how the tests run it; it buys no speed there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.distributed as dist

from sightline_host.engine.tensor_parallel import TensorParallel
from sightline_host.planner.builtin_loading import PlannerLoad, build_shard, make_loop
from sightline_host.planner.chat_types import EngineError

if TYPE_CHECKING:
    from sightline_host.engine.llama import LlamaDecoder, LlamaShape, WeightSource
    from sightline_host.engine.token_loop import TokenLoop

STARTUP_S = float(os.environ.get("SIGHTLINE_TP_STARTUP_S", "1800"))  # a 70B shard read from a slow disk
_RENDEZVOUS = timedelta(minutes=5)
_STOP_S = 15.0


@dataclass
class _Follower:
    rank: int
    process: BaseProcess
    conn: Connection


class TensorParallelLoop:
    """Rank 0's token loop: its own shard's loop, with every step sent to the followers first."""

    def __init__(
        self,
        load: PlannerLoad,
        local: TokenLoop,
        followers: list[_Follower],
        store: Path,
        follower_memory: list[dict[str, int]],
    ) -> None:
        self.decoder: LlamaDecoder = local.decoder
        self.engine = getattr(local, "engine", None)  # the prefix cache's block store, for memory accounting
        self.follower_memory = follower_memory
        self._load = load
        self._local = local
        self._followers = followers
        self._store = store
        self._failure: str | None = None
        self._closed = False

    def prefill(self, tokens: list[int]) -> int:
        self._send(("prefill", tokens))
        try:
            return self._local.prefill(tokens)
        except RuntimeError as error:  # a collective failed (a rank died under it), or this rank did
            raise self._lost(f"rank 0: {error}") from error

    def pick(self, mask: torch.Tensor | None, temperature: float, generator: torch.Generator | None) -> int:
        return self._local.pick(mask, temperature, generator)  # the logits are all-gathered: no collective here

    def feed(self, token: int) -> None:
        # The loops' own check, made before the followers are told: none of them starts a step that cannot run.
        if self._local.positions() >= self.decoder.max_seq:
            raise ValueError(f"{self._local.positions() + 1} positions do not fit the cache of {self.decoder.max_seq}")
        self._send(("feed", token))
        try:
            self._local.feed(token)
        except RuntimeError as error:
            raise self._lost(f"rank 0: {error}") from error

    def place(self, token: int) -> None:
        self._local.place(token)

    def positions(self) -> int:
        return self._local.positions()

    def forget(self) -> None:
        # Every rank forgets, or the next prefill would reuse different prefixes on different ranks.
        self._send(("forget", None))
        self._local.forget()

    def sync(self) -> None:
        self._local.sync()

    def healthy(self) -> bool:
        return not self._closed and self._failure is None and all(f.process.is_alive() for f in self._followers)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        _stop(self._followers)
        _leave()
        shutil.rmtree(self._store, ignore_errors=True)

    def _send(self, message: tuple[str, Any]) -> None:
        if self._closed:
            raise EngineError("engine_unavailable", f"{self._load.model_id} was unloaded", 503)
        for follower in self._followers:
            if self._failure is None and follower.conn.poll():
                self._failure = _reason(follower)
            if self._failure is None:
                try:
                    follower.conn.send(message)
                except OSError:
                    self._failure = _reason(follower)
        if self._failure is not None:
            raise self._lost(self._failure)

    def _lost(self, reason: str) -> EngineError:
        # The ranks are out of step from here on: nothing but a fresh start brings them back together.
        self._failure = self._failure or reason
        return EngineError(
            "engine_unavailable",
            f"{self._load.model_id} lost a tensor-parallel rank: {self._failure}. The next request loads it again.",
            503,
        )


def start_tensor_parallel(load: PlannerLoad, shape: LlamaShape, weights: WeightSource) -> TensorParallelLoop:
    """Starts a follower per further rank and builds rank 0's shard here; returns when every rank is ready."""
    if dist.is_initialized():
        raise EngineError(
            "model_unavailable",
            f"{load.model_id}: another model already runs tensor-parallel in this host; unload it first",
            503,
        )
    _loopback_only()
    store = Path(tempfile.mkdtemp(prefix="sightline-tp-"))
    context = get_context("spawn")  # CUDA cannot be forked; spawn also keeps the host's threads out of the child
    followers: list[_Follower] = []
    try:
        for rank in range(1, load.world):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=follower_main,
                args=(rank, load, str(store / "rendezvous"), theirs),
                name=f"sightline-tp-rank{rank}",
                daemon=True,
            )
            process.start()
            theirs.close()
            followers.append(_Follower(rank, process, ours))
        _await(followers, "started", load)  # a follower that cannot even start fails here, not in the rendezvous
        tp = _join(0, load, str(store / "rendezvous"))
        decoder = build_shard(load, shape, weights, tp)
        _await(followers, "built", load)
        for follower in followers:
            follower.conn.send(("go", None))
        local = make_loop(load, decoder)
        memory: list[dict[str, int]] = _await(followers, "ready", load)  # each follower's bytes by device
    except BaseException:
        _stop(followers, wait_s=2.0)  # a follower still loading would not read the stop
        _leave()
        shutil.rmtree(store, ignore_errors=True)
        raise
    return TensorParallelLoop(load, local, followers, store, memory)


# ---- the follower process ------------------------------------------------------------------------------------
def follower_main(rank: int, load: PlannerLoad, rendezvous: str, conn: Connection) -> None:
    """A follower's whole life: join, load its shard, say so, wait for the go, then repeat rank 0's steps."""
    from sightline_host.engine.checkpoint import load_weights  # noqa: PLC0415

    _exit_with_the_host()
    try:
        conn.send(("started", None))
        tp = _join(rank, load, rendezvous)
        shape, weights = load_weights(load.path, load.device(rank), load.torch_dtype())
        decoder = build_shard(load, shape, weights, tp)
        del weights
        conn.send(("built", None))
        if conn.recv()[0] != "go":
            return
        loop = make_loop(load, decoder)
        conn.send(("ready", _held(loop)))
        _repeat_steps(loop, conn)
    except (EOFError, KeyboardInterrupt):
        pass  # the host went away
    except BaseException as error:  # whatever it was, rank 0 must hear it
        with contextlib.suppress(OSError):
            conn.send(("failed", f"{type(error).__name__}: {error}"))
    finally:
        _leave()


def _exit_with_the_host() -> None:
    """A follower waiting inside a collective never sees its pipe close; this sees the host go and frees the GPU."""
    host = os.getppid()

    def watch() -> None:
        while os.getppid() == host:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="host-watch", daemon=True).start()


def _repeat_steps(loop: TokenLoop, conn: Connection) -> None:
    with torch.no_grad():
        while True:
            kind, payload = conn.recv()
            if kind == "prefill":
                loop.prefill(payload)
            elif kind == "feed":
                loop.place(payload)
                loop.feed(payload)
            elif kind == "forget":
                loop.forget()
            else:
                return


def _held(loop: TokenLoop) -> dict[str, int]:
    from sightline_host.planner.builtin_engine import loop_memory  # noqa: PLC0415

    return loop_memory(loop)


# ---- shared by both sides ------------------------------------------------------------------------------------
def _loopback_only() -> None:
    # Set before the followers start, so they inherit it; a user's own setting wins.
    if sys.platform.startswith("linux"):
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
        os.environ.setdefault("NCCL_SOCKET_IFNAME", "lo")


def _join(rank: int, load: PlannerLoad, rendezvous: str) -> TensorParallel:
    device = load.device(rank)
    if load.on_gpu:
        torch.cuda.set_device(device)
    dist.init_process_group(
        "nccl" if load.on_gpu else "gloo",
        init_method=f"file://{rendezvous}",
        rank=rank,
        world_size=load.world,
        timeout=_RENDEZVOUS,
        device_id=device if load.on_gpu else None,
    )
    return TensorParallel()


def _leave() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def _await(followers: list[_Follower], phase: str, load: PlannerLoad) -> list[Any]:
    deadline = time.monotonic() + STARTUP_S
    answers: list[Any] = []
    for follower in followers:
        while not follower.conn.poll(0.5):
            if not follower.process.is_alive():
                break
            if time.monotonic() > deadline:
                raise EngineError(
                    "model_unavailable",
                    f"{load.model_id}: rank {follower.rank} was not {phase} within {STARTUP_S:.0f} s "
                    "(SIGHTLINE_TP_STARTUP_S sets the limit)",
                    503,
                )
        try:
            kind, detail = follower.conn.recv()
        except EOFError:
            kind, detail = "failed", _reason(follower)
        if kind != phase:
            raise EngineError(
                "model_unavailable", f"{load.model_id}: rank {follower.rank} (of {load.world}) failed: {detail}", 503
            )
        answers.append(detail)
    return answers


def _reason(follower: _Follower) -> str:
    try:
        if follower.conn.poll():
            kind, detail = follower.conn.recv()
            if kind == "failed":
                return f"rank {follower.rank}: {detail}"
    except (EOFError, OSError):
        pass
    follower.process.join(timeout=1.0)
    return f"rank {follower.rank} exited (code {follower.process.exitcode})"


def _stop(followers: list[_Follower], wait_s: float = _STOP_S) -> None:
    for follower in followers:
        with contextlib.suppress(OSError):
            follower.conn.send(("stop", None))
    deadline = time.monotonic() + wait_s
    for follower in followers:
        follower.process.join(timeout=max(0.0, deadline - time.monotonic()))
        if follower.process.is_alive():
            follower.process.kill()
            follower.process.join(timeout=5.0)
        follower.conn.close()
