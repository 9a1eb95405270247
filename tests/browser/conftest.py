"""Browser tests: Debian's /usr/bin/chromium driven by Playwright (never `playwright install`).

One browser for this package, launched with the system executable and kept off every host but
loopback (../shared/design/browser-testing.md). A missing browser fails the tests — `make
install` installs it — because a run whose browser tests skip tested nothing.

Playwright's sync API runs an event loop on the main thread while it is started, and
pytest-asyncio cannot run a test's loop beside it ("Runner.run() cannot be called from a running
event loop"): so Playwright is started by this package's fixtures and stopped when the package's
tests are done, instead of by pytest-playwright's session fixtures.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

# The running system is this package's (tests/system_fixture.py says why it must not outlive it):
# a package-scoped fixture lives as long as the package of the conftest that declares it.
from tests.system_fixture import running_system  # noqa: F401 (a fixture)

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


@pytest.fixture(scope="package")
def browser():
    """The system Chromium, with outside name lookups refused; stopped after this package."""
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `make install` (it installs chromium and fonts-noto-color-emoji)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=["--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser):
    """A fresh page in its own browser context."""
    context = browser.new_context()
    yield context.new_page()
    context.close()


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


@pytest.fixture(scope="module")
def facts(running_system):
    """A ClickHouse client on the running system's sink, as the roles' user (its password generated
    into the system's data dir, sink/client.py)."""
    import clickhouse_connect

    from sink.client import credentials
    from switchboard.settings import load_settings

    user, password = credentials(load_settings(data_dir=running_system.data_dir))
    client = clickhouse_connect.get_client(dsn=running_system.sink_url, username=user, password=password,
                                           autogenerate_session_id=False)
    yield client
    client.close()
