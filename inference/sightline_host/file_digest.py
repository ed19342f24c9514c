"""The SHA-256 of a file, read in 1 MiB blocks: what the model store checks downloads against, and what the
TensorRT and fused-OCR caches record beside the artefacts they build."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()
