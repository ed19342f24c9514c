"""The tokenizer of a GGUF file, converted once and kept as a Hugging Face tokenizer folder.

transformers converts a GGUF's vocabulary by parsing the whole file again and building the fast tokenizer in
Python: about 16 s for SmolLM2's 49k tokens on a busy 2-core machine, against under a second to load the saved
result. The folder is keyed by the file's resolved path, size and modification time and by the transformers
version, so a replaced file or a new converter makes a new entry. The folder: $SIGHTLINE_TOKENIZER_CACHE_DIR,
else ~/.cache/sightline/tokenizers.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

CACHE_ENV = "SIGHTLINE_TOKENIZER_CACHE_DIR"


def cache_dir() -> Path:
    value = os.environ.get(CACHE_ENV, "").strip()
    return Path(value).expanduser() if value else Path.home() / ".cache" / "sightline" / "tokenizers"


def entry_for(path: Path) -> Path:
    stat = path.stat()
    key = f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0{importlib.metadata.version('transformers')}"
    return cache_dir() / hashlib.sha256(key.encode()).hexdigest()[:32]


def cached_tokenizer(path: Path, convert: Callable[[], Any]) -> Any:
    """The saved tokenizer of `path`, or `convert()`'s, which is then saved (a cache that cannot be written
    only costs the next load its time)."""
    from transformers import AutoTokenizer  # noqa: PLC0415

    entry = entry_for(path)
    if (entry / "tokenizer.json").is_file():
        try:
            return AutoTokenizer.from_pretrained(entry)
        except (ValueError, OSError):
            shutil.rmtree(entry, ignore_errors=True)  # a damaged entry is made again below
    tokenizer = convert()
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=entry.parent))
        tokenizer.save_pretrained(staging)
        os.replace(staging, entry)  # whole or not at all: a crash mid-save leaves no half entry
    except OSError:
        pass
    return tokenizer
