"""The edges: channel webhooks in, platform send APIs out. Never imports `streams`."""
