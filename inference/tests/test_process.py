import os
import signal
import subprocess
import sys

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import start_host


def test_the_host_exits_when_its_app_goes_away() -> None:
    host = start_host()
    assert host.process.stdin is not None
    host.process.stdin.close()
    assert host.process.wait(timeout=10) == 0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signals_stop_it_cleanly_with_status_zero(sig: signal.Signals) -> None:
    host = start_host()
    with host.connect() as ws:
        # An open connection must not hold the shutdown up.
        host.process.send_signal(sig)
        assert host.process.wait(timeout=15) == 0
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)


@pytest.mark.parametrize("token", [None, "", "fifteen-chars!!"], ids=["unset", "empty", "too-short"])
def test_it_refuses_to_start_without_a_proper_token(token: str | None) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SIGHTLINE_HOST_TOKEN"}
    if token is not None:
        env["SIGHTLINE_HOST_TOKEN"] = token
    done = subprocess.run(
        [sys.executable, "-m", "sightline_host", "serve"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "SIGHTLINE_HOST_TOKEN" in done.stderr
    # stdout belongs to the listening line; nothing else may appear there.
    assert done.stdout == ""


def test_the_listening_line_is_the_only_stdout() -> None:
    host = start_host()
    assert host.announcement == {
        "event": "listening",
        "host": "127.0.0.1",
        "port": host.port,
        "pid": host.process.pid,
        "version": "0.1.0",
        "protocol": 1,
    }
    assert host.process.stdin is not None and host.process.stdout is not None
    host.process.stdin.close()
    assert host.process.wait(timeout=10) == 0
    assert host.process.stdout.read() == b""
