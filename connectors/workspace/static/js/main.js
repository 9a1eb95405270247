// Boot: sign in if needed, then the desk (and the supervisor view by role), and the one socket.
import { api } from "./api.js";
import { Desk } from "./desk.js";
import { apply } from "./events.js";
import { RANK, bindSignin, whoIsSignedIn } from "./signin.js";
import { PushSocket } from "./socket.js";
import { Supervisor } from "./supervisor.js";

const $ = (id) => document.getElementById(id);

async function boot() {
  const me = await whoIsSignedIn();
  return me ? start(me) : showSignin();
}

function showSignin() {
  $("desk").hidden = true;
  $("signin").hidden = false;
  $("signin-form").elements.username.focus();
}

bindSignin(start, { beforeStart: () => sessionStorage.removeItem("sb:last-event") });

function start(raw) {
  const me = { ...(raw.person || {}), ...raw };
  me.person_id = me.person_id || me.id || me.username;
  $("signin").hidden = true;
  $("desk").hidden = false;
  $("me-name").textContent = `${me.name || me.person_id} (${me.role || "agent"})`;
  const desk = new Desk(me);
  window.switchboard = { desk };   // for the browser tests and the console
  const select = $("presence");
  // Routing's statuses (streams/routing/roster.py) or the API's presence + on_queue, as the selector's value.
  desk.presence = (presence, onQueue) => {
    const status = { on_queue: "available:on", not_responding: "available:off", idle: "available:off", busy: "away:off" }[presence];
    select.value = status || `${presence}:${onQueue ? "on" : "off"}`;
    if (!select.value) select.value = "offline:off";
  };
  desk.presence(me.presence || "offline", !!me.on_queue);
  select.onchange = () => { const [p, q] = select.value.split(":"); api.presence(p, q === "on").catch((e) => desk.composer.error(e.message)); };
  const socket = new PushSocket((event) => apply(desk, event), (state) => { $("connection").textContent = state; });
  window.switchboard.socket = socket;
  addEventListener("online", () => { if (socket.ws && socket.ws.readyState !== WebSocket.OPEN) { clearTimeout(socket.timer); socket.open(); } });
  $("signout").onclick = async () => { socket.close(); await api.logout().catch(() => {}); location.reload(); };
  if ((RANK[me.role] || 1) >= RANK.supervisor) supervisorToggle();
  if (me.role !== "agent" && !RANK[me.role]) return;
  desk.load().catch((exc) => desk.composer.error(exc.message)).finally(() => socket.open());
}

function supervisorToggle() {
  const sv = new Supervisor(), button = $("view-toggle");
  button.hidden = false;
  button.onclick = () => {
    const showing = !$("supervisor-view").hidden;
    $("supervisor-view").hidden = showing;
    $("agent-view").hidden = !showing;
    button.textContent = showing ? "Supervisor view" : "Agent view";
    if (showing) sv.stop(); else sv.start();
  };
  button.click();
}

boot().catch((exc) => { document.body.prepend(Object.assign(document.createElement("p"), { className: "error", textContent: `Switchboard could not start: ${exc.message}` })); });
