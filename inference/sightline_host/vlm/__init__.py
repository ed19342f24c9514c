"""The vlm role: a vision-language model (Molmo, or any transformers image-text-to-text model) that describes the
screen and points at things on it.

- `screen.ScreenVlm`: the Python API, `describe(image, prompt)` and `point(image, query)`.
- `transformers_engine.TransformersVlmEngine`: the in-process engine behind the host's OpenAI endpoint.
- `remote.VisionProxyChatEngine`: the same role served by an external OpenAI-compatible engine (vLLM).
"""
