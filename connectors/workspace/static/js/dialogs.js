// Transfer and wrap-up dialogs (native <dialog>: Esc closes, focus stays inside while open).
import { api, listOf } from "./api.js";
import { el } from "./render.js";

function options(select, items, blank) {
  select.replaceChildren(...(blank ? [el("option", { value: "", text: "—" })] : []),
    ...items.map(([value, label]) => el("option", { value, text: label })));
}

for (const dialog of document.querySelectorAll("dialog")) {
  dialog.querySelector("[data-close]").addEventListener("click", () => dialog.close());
}

export async function openTransfer(conversation, done) {
  const dialog = document.getElementById("transfer-dialog");
  const form = document.getElementById("transfer-form");
  const error = form.querySelector(".error");
  error.textContent = "";
  const [queues, agents] = await Promise.all([api.queues().catch(() => []), api.agents().catch(() => [])]);
  options(form.queue_id, listOf(queues, "queues").map((q) => [q.queue_id || q.id || q, q.name || q.queue_id || q.id || q]), true);
  options(form.agent_id, listOf(agents, "agents").map((a) => [a.agent_id || a.person_id || a.id, `${a.name || a.agent_id || a.id} (${a.presence || ""})`]), true);
  form.onsubmit = async (event) => {
    event.preventDefault();
    const body = { mode: form.mode.value, note: form.note.value || null };
    if (form.agent_id.value) body.agent_id = form.agent_id.value; else body.queue_id = form.queue_id.value;
    if (!body.agent_id && !body.queue_id) { error.textContent = "Choose a queue or an agent."; return; }
    try { await api.transfer(conversation.id, body); dialog.close(); form.reset(); done(); }
    catch (exc) { error.textContent = exc.message; }
  };
  dialog.showModal();
}

// Wrap-up: the queue's codes; `mandatory` keeps the dialog until a code is chosen, `time_boxed`
// shows the time left (the ACD applies the default code when it runs out), `optional` may be skipped.
export function openWrapup(conversation, done) {
  const dialog = document.getElementById("wrapup-dialog");
  const form = document.getElementById("wrapup-form");
  const error = form.querySelector(".error");
  const wrap = conversation.wrapup || {};
  const codes = wrap.codes || conversation.wrapupCodes || [];
  error.textContent = "";
  options(form.code, codes.map((c) => [typeof c === "string" ? c : c.code, typeof c === "string" ? c : c.label || c.code]), wrap.mode !== "mandatory");
  const mode = wrap.mode || "optional";
  document.getElementById("wrapup-mode").textContent =
    mode === "mandatory" ? "A wrap-up code is required." :
    mode === "time_boxed" ? `Closes with the default code after ${wrap.timeout_seconds || "?"} s.` : "Wrap-up is optional.";
  form.querySelector("[data-close]").hidden = mode === "mandatory";
  dialog.oncancel = (event) => { if (mode === "mandatory") event.preventDefault(); };
  form.onsubmit = async (event) => {
    event.preventDefault();
    if (!form.code.value) { error.textContent = "Choose a code."; return; }
    try { await api.wrapup(conversation.id, form.code.value, form.note.value || null); dialog.close(); form.reset(); done(); }
    catch (exc) { error.textContent = exc.message; }
  };
  dialog.showModal();
}
