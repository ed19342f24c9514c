import os
import signal
import subprocess
import sys
import time

from tests.conftest import start_host


def test_the_host_exits_when_its_app_goes_away() -> None:
    host = start_host()
    assert host.process.stdin is not None
    host.process.stdin.close()
    assert host.process.wait(timeout=10) == 0


def test_sigterm_stops_it_cleanly() -> None:
    host = start_host()
    host.process.terminate()
    # uvicorn shuts down gracefully, then re-raises the signal so the exit status reports it.
    assert host.process.wait(timeout=10) in (0, -signal.SIGTERM)


def test_it_refuses_to_start_without_a_token() -> None:
    env = {k: v for k, v in os.environ.items() if k != "SIGHTLINE_HOST_TOKEN"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "sightline_host", "serve"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "SIGHTLINE_HOST_TOKEN" in done.stderr
    assert time.monotonic() - started < 30
