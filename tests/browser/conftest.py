"""Browser tests: Debian's /usr/bin/chromium driven by Playwright (never `playwright install`).

The launch arguments point pytest-playwright at the system browser and keep it off every host
but loopback (../shared/design/browser-testing.md). A missing browser fails the tests — `make
install` installs it — because a run whose browser tests skip tested nothing.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """The system Chromium, with outside name lookups refused."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make install` (it installs chromium and fonts-noto-color-emoji)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]}


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (test-artifacts/browser/ at the repository root; README names it)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def shot(artifacts, request):
    """shot(page, step): a full-page screenshot `<test>-<nn>-<step>.png`, numbered in order."""
    count = iter(range(1, 100))

    def take(page, step: str) -> Path:
        path = artifacts / f"{request.node.name}-{next(count):02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
    return take
