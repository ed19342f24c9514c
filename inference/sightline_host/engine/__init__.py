"""The built-in planner engine: a Llama-architecture decoder whose decode step is a fixed list of fused Triton
kernels (bf16 or weight-only INT4 GEMVs, flash-decoding attention) replayed from one CUDA graph per token, with a
static KV cache, a prefix cache of KV blocks across turns, grammar-constrained decoding (llguidance) and
tensor parallelism over local GPUs (torch.distributed, one process per GPU). Needs PyTorch, Triton and a CUDA GPU;
`prefix_index` alone is plain Python."""
