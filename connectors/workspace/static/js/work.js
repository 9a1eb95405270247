// The agent's other work (agent-notifications work_started / work_ended, streams/routing/work.py): a call or an
// email of another system that routing counts in their capacity. Shown in the top bar: "On a voice call since 10:42".
const current = new Map();   // conversation_id (work:<id>) -> {media, since}
const WHAT = { voice: "a voice call", email: "an email", video: "a video call" };

export function workStarted(e) {
  current.set(e.conversation_id, { media: e.media || "other", since: e.occurred_at });
  render();
}

export function workEnded(e) {
  current.delete(e.conversation_id);
  render();
}

function render() {
  const el = document.getElementById("other-work");
  if (!el) return;
  const lines = [...current.values()].map(({ media, since }) =>
    `On ${WHAT[media] || `${media} work`} since ${new Date(since).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}`);
  el.textContent = lines.join(" · ");
  el.hidden = lines.length === 0;
}
