"""The built-in planner engine: a Llama-architecture decoder in plain PyTorch with a static KV cache,
a CUDA-graph decode step and weight-only INT4, built for single-stream latency."""
