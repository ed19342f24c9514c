"""`sightline-host serve`: bind, announce the port on stdout, serve until told to stop or orphaned.

`sightline-host models ...`: the model store and the VRAM planner (see sightline_host/models/cli.py).
"""

import argparse
import asyncio
import json
import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn

from sightline_host import __version__
from sightline_host.app import create_app
from sightline_host.auth import MIN_TOKEN_LENGTH
from sightline_host.models import cli as models_cli
from sightline_host.ocr import OcrEngine
from sightline_host.protocol import MAX_FRAME_BYTES, PROTOCOL_VERSION

TOKEN_ENV = "SIGHTLINE_HOST_TOKEN"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sightline-host")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the host (the app starts it; you rarely need to)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    serve.add_argument("--port", type=int, default=0, help="port to bind; 0 lets the system pick")
    serve.add_argument(
        "--exit-on-stdin-eof", action="store_true", help="exit when stdin closes, so the host never outlives its app"
    )
    serve.add_argument("--preload", action="store_true", help="load the OCR model at start instead of on first use")
    models_cli.add_parser(commands)
    return parser


class _GracefulServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown, so the process would end by the signal
    (status -15, or a KeyboardInterrupt traceback); the supervisor treats a clean stop as exit status 0."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        originals = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)

    def _on_signal(self, sig: int, _frame: FrameType | None) -> None:
        # A second Ctrl-C skips waiting for open connections and running requests.
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        self.should_exit = True


def _watch_stdin(server: uvicorn.Server) -> None:
    def wait_for_eof() -> None:
        try:
            while os.read(sys.stdin.fileno(), 65536):
                pass
        except OSError:
            # An unreadable stdin means the parent's end is gone just as surely as EOF does.
            pass
        server.should_exit = True

    threading.Thread(target=wait_for_eof, name="stdin-eof", daemon=True).start()


async def _serve(args: argparse.Namespace, token: str) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    ocr = OcrEngine()
    config = uvicorn.Config(
        create_app(token, ocr),
        log_level="warning",
        access_log=False,
        ws="websockets",
        ws_max_size=MAX_FRAME_BYTES,
        lifespan="off",
        # An OCR call in progress is not worth keeping an orphaned host alive for.
        timeout_graceful_shutdown=5,
    )
    server = _GracefulServer(config)
    if args.exit_on_stdin_eof:
        _watch_stdin(server)
    if args.preload:
        threading.Thread(target=ocr.load, name="ocr-preload", daemon=True).start()
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    # uvicorn exposes readiness only as a flag.
    while not server.started and not serving.done():  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    if server.started:
        port = sock.getsockname()[1]
        announcement = {
            "event": "listening",
            "host": args.host,
            "port": port,
            "pid": os.getpid(),
            "version": __version__,
            "protocol": PROTOCOL_VERSION,
        }
        print(json.dumps(announcement), flush=True)
    await serving


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "models":
        return models_cli.run(args)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The host's own INFO lines, not every library's: PyTorch alone prints its tensor-cache statistics at exit.
    for library in ("torch", "transformers", "httpx", "huggingface_hub"):
        logging.getLogger(library).setLevel(logging.WARNING)
    token = os.environ.get(TOKEN_ENV, "")
    if len(token) < MIN_TOKEN_LENGTH:
        print(
            f"sightline-host: set {TOKEN_ENV} to a secret of at least {MIN_TOKEN_LENGTH} characters "
            "(the app does this when it starts the host)",
            file=sys.stderr,
        )
        return 2
    asyncio.run(_serve(args, token))
    return 0
