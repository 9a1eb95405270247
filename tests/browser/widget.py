"""The two sides of a web messaging chat for the browser tests: the visitor's widget on a page, and
a demo agent answering through the agent API (docs/workspace.md) — HTTP, not the agent page."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect

from tests.browser.workspace import PASSWORDS
from tests.kafka_fixture import wait_until

REPO = Path(__file__).resolve().parents[2]


def create_deployment(system, deployment: str, *options: str) -> None:
    """`switchboard admin deployment create` for a deployment the test pages (the edge's origin) embed."""
    done = subprocess.run([sys.executable, "-m", "switchboard.cli", "admin", "deployment", "create", "--tenant",
                           system.tenant, deployment, "--origin", system.edge_url, *options],
                          cwd=REPO, env=system.roles["edge"].env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"deployment create failed:\n{done.stdout}\n{done.stderr}"


def embedding(system, deployment: str) -> str:
    """The demo page with `deployment`'s widget instead of the demo one (served by the edge: a page
    the test fulfilled itself would be a public one to Chromium, refused the loopback socket)."""
    return f"{system.edge_url}/demo/?deployment={deployment}"


def ready(page: Page, url: str) -> Page:
    """Go to `url` and wait for the widget's `ready` (its session configured)."""
    page.goto(url)
    expect(page.locator("html")).to_have_attribute("data-chat", "ready", timeout=20_000)
    return page


def open_chat(page: Page) -> Locator:
    """Open the panel from its launcher; the conversation log."""
    page.get_by_role("button", name=re.compile("^Open chat")).click()
    return page.get_by_role("log", name="Conversation")


def session_id(page: Page) -> str:
    """The widget's guest session (the sender's external id of its messages)."""
    return page.evaluate("Switchboard.widget.session.sessionId")


def write(page: Page, text: str, emoji: str | None = None, files: list[Path] = ()) -> None:
    """Type `text` (+ an emoji from the picker, + attachments uploaded with progress) and send it."""
    page.get_by_label("Message", exact=True).fill(text)
    if emoji:
        page.get_by_role("button", name="Emoji", exact=True).click()
        page.get_by_role("button", name=f"emoji {emoji}").click()
    for path in files:
        page.locator("#switchboard-widget input[type=file]").set_input_files(path)
        expect(page.get_by_label(f"{path.name} uploaded")).to_be_attached(timeout=15_000)
    page.get_by_label("Message", exact=True).press("Enter")


class Agent:
    """A demo agent of the running system working through the agent API."""

    def __init__(self, browser: Browser, system, username: str):
        self.context = browser.new_context(base_url=system.edge_url)
        self.http = self.context.request
        signed_in = self.http.post("/api/v1/auth/login", data={"tenant": system.tenant, "username": username,
                                                                "password": PASSWORDS[username]})
        assert signed_in.ok, signed_in.text()
        assert self.http.put("/api/v1/me/presence", data={"presence": "available", "on_queue": True}).status == 202

    def accept(self, external_id: str, timeout: float = 30) -> str:
        """Accept the offer of the conversation with `external_id` (a session id, a PSID) once it comes;
        its id when connected."""
        offer = wait_until(lambda: next((o for o in self.http.get("/api/v1/offers").json()["offers"]
                                         if (o.get("thread_key") or "").endswith(f":{external_id}")), None),
                           timeout, f"an offer for {external_id}")
        assert self.http.post(f"/api/v1/offers/{offer['offer_id']}/accept").status == 202
        wait_until(lambda: self.conversation(offer["conversation_id"]).get("state") == "connected", timeout,
                   "the accepted conversation")
        return offer["conversation_id"]

    def finish(self, conversation_id: str, code: str = "resolved", timeout: float = 30) -> None:
        """End the interaction if it is still connected, then wrap up with `code`: the conversation
        leaves the agent's book and gives its capacity back (as a real agent does before the next)."""
        if self.conversation(conversation_id).get("state") == "connected":
            assert self.http.post(f"/api/v1/conversations/{conversation_id}/end").status == 202
        wait_until(lambda: self.conversation(conversation_id).get("state") in ("wrapup", None), timeout,
                   f"the wrap-up prompt of {conversation_id}")
        if self.conversation(conversation_id):
            done = self.http.post(f"/api/v1/conversations/{conversation_id}/wrapup", data={"code": code})
            assert done.status == 202, done.text()
        wait_until(lambda: not self.conversation(conversation_id), timeout, f"{conversation_id} wrapped up")

    def conversation(self, conversation_id: str) -> dict:
        """The conversation as the agent's book has it ({} while unknown)."""
        answer = self.http.get(f"/api/v1/conversations/{conversation_id}")
        return answer.json() if answer.ok else {}

    def reply(self, conversation_id: str, text: str, image: Path | None = None, sticker: str | None = None,
              client_id: str | None = None) -> None:
        """Send text (and an image uploaded to the media store, a sticker of our set) to the customer."""
        content = [{"type": "text", "text": text}] + ([{"type": "sticker", "sticker_id": sticker}] if sticker else [])
        if image:
            stored = self.http.post("/api/v1/media", multipart={"file": {"name": image.name, "mimeType": "image/png",
                                                                          "buffer": image.read_bytes()}})
            assert stored.status == 201, stored.text()
            content.append({"type": "image", "media_key": stored.json()["media_key"]})
        sent = self.http.post(f"/api/v1/conversations/{conversation_id}/messages",
                              data={"content": content, "client_id": client_id or text[:40]})
        assert sent.status == 202, sent.text()

    def typing(self, conversation_id: str) -> None:
        """The agent is typing (the widget shows it)."""
        assert self.http.post(f"/api/v1/conversations/{conversation_id}/typing").status == 202

    def receipt(self, conversation_id: str, text: str) -> str | None:
        """The receipt the agent sees on their message holding `text` (sent, delivered, read)."""
        return next((m.get("receipt") for m in self.messages(conversation_id)
                     if text in json.dumps(m, ensure_ascii=False)), None)

    def messages(self, conversation_id: str) -> list[dict]:
        """What the agent was pushed in the conversation, oldest first."""
        return self.http.get(f"/api/v1/conversations/{conversation_id}/messages").json()["messages"]

    def pushed(self, conversation_id: str, text: str, timeout: float = 20) -> str:
        """The conversation's messages as JSON once one of them holds `text` (pushed asynchronously)."""
        def found() -> str | None:
            messages = json.dumps(self.messages(conversation_id), ensure_ascii=False)
            return messages if text in messages else None
        return wait_until(found, timeout, f"{text!r} on the agent's side of {conversation_id}")

    def history(self, conversation_id: str) -> list[dict]:
        """The customer's whole history across channels (an empty list until the customer is known)."""
        answer = self.http.get(f"/api/v1/conversations/{conversation_id}/history")
        return answer.json()["messages"] if answer.ok else []

    def note_email(self, conversation_id: str, email: str) -> None:
        """The customer told the agent their email (agent-entered, matched across channels)."""
        assert self.http.post(f"/api/v1/conversations/{conversation_id}/customer", data={"email": email}).status == 202

    def done(self) -> None:
        """End and wrap up what is still open, then sign out, so later tests find the agent free."""
        for conversation in self.http.get("/api/v1/conversations").json()["conversations"]:
            cid = conversation["conversation_id"]
            if conversation["state"] == "connected":
                self.http.post(f"/api/v1/conversations/{cid}/end")
            if conversation["state"] in ("connected", "ended", "wrapup"):
                wait_until(lambda: self.conversation(cid).get("state") in ("wrapup", None), 20, f"wrap-up of {cid}")
                self.http.post(f"/api/v1/conversations/{cid}/wrapup", data={"code": "resolved"})
        self.http.post("/api/v1/auth/logout")
        self.context.close()


def image_loaded(page, image) -> None:
    """Until the image has loaded and decoded: visible comes first, while the browser may still fetch it."""
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=20_000)
