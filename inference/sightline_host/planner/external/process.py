"""One external engine process: started in its own process group, health-checked, restarted with back-off
when it dies, and stopped (TERM, then KILL) with the host. Its output is kept, so a failure can say why."""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import httpx

from sightline_host.planner.external.launch import LaunchSpec

LOG_LINES = 200


# Linux sends PR_SET_PDEATHSIG when the *thread* that forked the child ends, so every engine is forked from
# this one thread, which lives as long as the host: a host that is killed outright takes its engines along.
_SPAWNER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine-spawner")
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class EngineProcessError(Exception):
    """The engine did not start, did not become healthy in time, or died; the message ends with its last output."""


class EngineProcess:
    def __init__(
        self,
        spec: LaunchSpec,
        startup_timeout_s: float = 600.0,
        max_restarts: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spec = spec
        self.startup_timeout_s = startup_timeout_s
        self.max_restarts = max_restarts
        self.restarts = 0
        self._clock = clock
        self._proc: subprocess.Popen[str] | None = None
        self._log: collections.deque[str] = collections.deque(maxlen=LOG_LINES)
        self._lock = threading.Lock()
        self._stopped = False

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(list(self._log)[-lines:])

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def healthy(self, timeout_s: float = 2.0) -> bool:
        if not self.alive():
            return False
        try:
            headers = {"Authorization": f"Bearer {self.spec.api_key}"}
            return httpx.get(self.spec.health_url, headers=headers, timeout=timeout_s).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self) -> None:
        """Starts the engine and returns once it answers its health check."""
        with self._lock:
            self._stopped = False
            self._spawn()
            self._wait_healthy()

    def ensure_running(self) -> None:
        """Before a request: a dead engine is restarted (with back-off), at most ``max_restarts`` times."""
        with self._lock:
            if self._stopped:
                raise EngineProcessError(f"the {self.spec.kind} engine was stopped")
            if self.alive():
                return
            code = self._proc.returncode if self._proc else None
            if self.restarts >= self.max_restarts:
                raise EngineProcessError(
                    f"the {self.spec.kind} engine exited (code {code}) and was restarted {self.restarts} times "
                    f"already; not trying again. Its last output:\n{self.log_tail()}"
                )
            time.sleep(min(8.0, 0.5 * 2**self.restarts))
            self.restarts += 1
            self._spawn()
            self._wait_healthy()

    def stop(self, grace_s: float = 10.0) -> None:
        with self._lock:
            self._stopped = True
            proc = self._proc
            if proc is None or proc.poll() is not None:
                return
            self._signal(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self._signal(proc, signal.SIGKILL)
                proc.wait(timeout=grace_s)

    def _spawn(self) -> None:
        env = {**os.environ, **self.spec.env}

        def popen() -> subprocess.Popen[str]:
            return subprocess.Popen(
                list(self.spec.argv),
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                # Its own process group, so stopping it also stops the workers it forks (vLLM's TP ranks).
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
            )

        self._proc = _SPAWNER.submit(popen).result()
        threading.Thread(target=self._drain, args=(self._proc,), daemon=True).start()

    def _drain(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self._log.append(line.rstrip("\n"))

    def _wait_healthy(self) -> None:
        deadline = self._clock() + self.startup_timeout_s
        while self._clock() < deadline:
            if not self.alive():
                code = self._proc.returncode if self._proc else None
                raise EngineProcessError(
                    f"the {self.spec.kind} engine exited during start-up (code {code}). "
                    f"Its last output:\n{self.log_tail()}"
                )
            if self.healthy():
                return
            time.sleep(0.25)
        proc = self._proc
        if proc is not None:
            self._signal(proc, signal.SIGKILL)
        raise EngineProcessError(
            f"the {self.spec.kind} engine did not answer {self.spec.health_url} within "
            f"{self.startup_timeout_s:.0f} s. Its last output:\n{self.log_tail()}"
        )

    @staticmethod
    def _signal(proc: subprocess.Popen[str], sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
