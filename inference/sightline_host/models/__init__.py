"""Model catalog, store and VRAM planner."""
