"""The agent workspace in the edge: sign-in, the agent API, the push socket (docs/workspace.md)."""
from .app import PUBLIC, Workspace, build, mount

__all__ = ["PUBLIC", "Workspace", "build", "mount"]
