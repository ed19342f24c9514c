"""Fixtures that run the real host process, as the app does."""

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[2]
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@dataclass
class RunningHost:
    process: "subprocess.Popen[bytes]"
    port: int
    token: str
    announcement: dict[str, Any]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def connect(self, token: str | None = None) -> ClientConnection:
        header = {"Authorization": f"Bearer {token or self.token}"}
        return connect(self.ws_url, additional_headers=header, max_size=2**27, open_timeout=10)


def start_host(extra_args: list[str] | None = None) -> RunningHost:
    token = secrets.token_urlsafe(32)
    process = subprocess.Popen(
        [sys.executable, "-m", "sightline_host", "serve", "--port", "0", "--exit-on-stdin-eof", *(extra_args or [])],
        env={**os.environ, "SIGHTLINE_HOST_TOKEN": token},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    announcement = json.loads(line)
    assert announcement["event"] == "listening"
    return RunningHost(process, int(announcement["port"]), token, announcement)


def stop_host(host: RunningHost) -> None:
    if host.process.poll() is None:
        host.process.terminate()
        host.process.wait(timeout=10)


@pytest.fixture(scope="session")
def host() -> Iterator[RunningHost]:
    running = start_host()
    yield running
    stop_host(running)


@pytest.fixture
def ws(host: RunningHost) -> Iterator[ClientConnection]:
    connection = host.connect()
    try:
        yield connection
    finally:
        connection.close()


@pytest.fixture(scope="session")
def tiny_vlm_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight tiny LLaVA checkpoint folder (see test_vlm_tiny_model.py), built once per test session."""
    from tests.test_vlm_tiny_model import write_tiny_llava  # noqa: PLC0415  (imports PyTorch: only when asked)

    return write_tiny_llava(tmp_path_factory.mktemp("tiny-llava"))
