"""Planner engines that run as their own process (vLLM, llama.cpp's server, TensorRT-LLM): launched from the
profile, checked against the VRAM planner first, supervised, and served through the host's OpenAI endpoint."""
