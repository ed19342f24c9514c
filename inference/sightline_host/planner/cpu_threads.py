"""How many threads a CPU engine should use: half the logical cores.

Engines whose threads wait for each other at every layer (llama.cpp, PyTorch's OpenMP) stall when one thread
more than there are free cores is scheduled out. Seen here: a 300-token llama.cpp prefill took 14 s instead of
1 s with another process busy on one of two cores, and a built-in-engine plan 48 s instead of 6 s. Half the
logical cores is llama.cpp's own default.
"""

from __future__ import annotations

import os


def default_threads() -> int:
    return max(1, (os.cpu_count() or 2) // 2)
