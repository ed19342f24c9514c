"""The real host's /ws with the OCR left out, for bench/capture.ts: an observe then costs what it takes for the
pixels to reach the host as a decoded RGB array (receive, parse, decode), plus a small reply.

Prints {"port": N} once listening; exits when stdin closes."""

import asyncio
import json
import socket
import sys
import threading

import numpy as np
import uvicorn
from numpy.typing import NDArray

from sightline_host.app import create_app
from sightline_host.ocr import OcrEngine
from sightline_host.protocol import MAX_FRAME_BYTES
from sightline_host.protocol.types import TextLine


class NoOcr(OcrEngine):
    def read(self, rgb: NDArray[np.uint8], min_confidence: float = 0.5) -> list[TextLine]:
        return []


async def main(token: str) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        create_app(token, NoOcr()), log_level="warning", ws="websockets", ws_max_size=MAX_FRAME_BYTES, lifespan="off"
    )
    server = uvicorn.Server(config)

    def exit_on_stdin_eof() -> None:
        sys.stdin.read()
        server.should_exit = True

    threading.Thread(target=exit_on_stdin_eof, daemon=True).start()
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn exposes readiness only as a flag
        await asyncio.sleep(0.01)
    print(json.dumps({"port": sock.getsockname()[1]}), flush=True)
    await serving


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
