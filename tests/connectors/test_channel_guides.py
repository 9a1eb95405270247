"""The channel guides (docs/channels/*.md) name only routes the edge serves and settings that exist."""
from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from aiohttp.test_utils import make_mocked_request

from connectors.edge import make_app, takes_webhooks
from schemas import Codec
from switchboard.accounts import load_accounts
from switchboard.settings import Settings, load_settings
from tests.connectors.helpers import load_test_accounts, new_tenant

GUIDES = sorted((Path(__file__).resolve().parents[2] / "docs" / "channels").glob("*.md"))
# An edge path as a guide writes it: after the host (`https://<your-host>/webhooks/…`) or standing
# alone in code, never inside another site's URL (developers.facebook.com/…/webhooks/reference).
ROUTE = re.compile(r"(?:<your-host>|(?<![\w/.<>-]))(/webhooks/[\w{}<>.@-]+/[\w{}<>.@-]+)")
SETTING = re.compile(r"\bSWITCHBOARD_[A-Z0-9_]+\b")
ACCOUNTS_EXAMPLE = re.compile(r"```yaml\n(tenants:\n.*?)```", re.S)


def named(pattern: re.Pattern) -> list[tuple[str, str]]:
    return sorted({(guide.name, found) for guide in GUIDES for found in pattern.findall(guide.read_text())})


def known_settings() -> set[str]:
    return {f"SWITCHBOARD_{name.upper()}" for name in Settings.model_fields}


@pytest.fixture(scope="module")
def edge_app(tmp_path_factory):
    return make_app(load_settings(), load_test_accounts(tmp_path_factory.mktemp("guides"), new_tenant()), None, Codec())


def resolved(app, path: str) -> str | None:
    """The canonical path of the route that serves POST `path` (placeholders filled in), or None."""
    concrete = re.sub(r"[{<]([\w-]+)[}>]", lambda m: "acme-meta" if m.group(1) == "app" else "104729385610293", path)
    match = asyncio.run(app.router.resolve(make_mocked_request("POST", concrete)))
    if match.http_exception is not None:
        return None
    canonical = match.route.resource.canonical
    if canonical == "/webhooks/{channel}/{account_id}" and not _webhook_channel(match["channel"]):
        return None   # the accounts' route answers 404 for a channel without webhooks
    return canonical


def _webhook_channel(channel: str) -> bool:
    try:
        return takes_webhooks(channel)
    except KeyError:
        return False


def test_the_guides_name_routes_and_settings():
    assert len(named(ROUTE)) >= 8 and named(SETTING)   # the pattern still finds what the guides write


@pytest.mark.parametrize("guide,path", named(ROUTE))
def test_every_webhook_route_a_guide_names_is_served_by_the_edge(edge_app, guide, path):
    assert resolved(edge_app, path) is not None, f"{guide} names {path}, which the edge does not serve"


def test_app_urls_resolve_to_the_app_route_and_made_up_routes_to_none(edge_app):
    assert resolved(edge_app, "/webhooks/meta/{app}") == resolved(edge_app, "/webhooks/x/acme-x") == "/webhooks/{platform}/{app}"
    assert resolved(edge_app, "/webhooks/x/1466859271035789312") == "/webhooks/{channel}/{account_id}"
    assert resolved(edge_app, "/webhooks/telegram/123") is None
    assert resolved(edge_app, "/webhooks/web/acme-website") is None


@pytest.mark.parametrize("guide,setting", named(SETTING))
def test_every_setting_a_guide_names_exists(guide, setting):
    assert setting in known_settings(), f"{guide} names {setting}, which is no setting"


EXAMPLES = [(guide.name, i, block) for guide in GUIDES for i, block in enumerate(ACCOUNTS_EXAMPLE.findall(guide.read_text()))]


@pytest.mark.parametrize("guide,index,block", EXAMPLES, ids=[f"{g}-{i}" for g, i, _ in EXAMPLES])
def test_every_accounts_example_a_guide_gives_loads_as_the_edge_loads_it(tmp_path, guide, index, block):
    path = tmp_path / "accounts.yaml"
    path.write_text(re.sub(r"\$\{[A-Z0-9_]+\}", "a-secret-from-the-environment", block))
    assert len(load_accounts(path)) >= 1   # ConfigError names the guide's wrong key otherwise


def test_the_app_guides_give_an_app_owning_two_accounts(tmp_path):
    owners = {}
    for guide, index, block in EXAMPLES:
        path = tmp_path / f"{guide}-{index}.yaml"
        path.write_text(re.sub(r"\$\{[A-Z0-9_]+\}", "a-secret-from-the-environment", block))
        names = [a.app.name for a in load_accounts(path) if getattr(a, "app", None) is not None]
        if names:
            owners[guide] = (len(names), set(names))
    assert owners == {"messenger.md": (2, {"acme-meta"}), "whatsapp.md": (2, {"acme-meta"}), "x.md": (2, {"acme-x"})}
