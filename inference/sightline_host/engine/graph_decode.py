"""Greedy decode with the one-token step captured in a CUDA graph: one launch per token instead of hundreds."""

from __future__ import annotations

import torch

from sightline_host.engine.llama import LlamaDecoder


class GraphDecoder:
    def __init__(self, decoder: LlamaDecoder, compile_step: bool = False) -> None:
        self.decoder = decoder
        # Inductor fuses the small element-wise kernels (norms, RoPE, SiLU) that otherwise dominate a decode step.
        step = torch.compile(decoder.forward, dynamic=False, fullgraph=True) if compile_step else decoder.forward
        device = decoder.embed.device
        self.token = torch.zeros(1, dtype=torch.long, device=device)
        self.position = torch.zeros((), dtype=torch.long, device=device)
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(3):  # warm-up outside the graph: compilation, cuBLAS kernel choice and workspaces
                step(self.token, self.position)
        torch.cuda.current_stream().wait_stream(stream)
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            logits = step(self.token, self.position)
            self.next_token = logits.argmax().view(1)

    def prefill(self, prompt: torch.Tensor) -> int:
        """Fills the cache with the prompt and returns the first generated token."""
        logits = self.decoder.forward(prompt, torch.zeros((), dtype=torch.long, device=prompt.device))
        return int(logits.argmax())

    def generate(self, first_token: int, start: int, steps: int) -> list[int]:
        out = []
        self.token.fill_(first_token)
        for i in range(steps):
            self.position.fill_(start + i)
            self.graph.replay()
            self.token.copy_(self.next_token)
            out.append(self.next_token.clone())
        return [int(t) for t in torch.cat(out).tolist()]
