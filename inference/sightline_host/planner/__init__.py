"""The planner role: chat engines behind the host's OpenAI-compatible endpoint."""
