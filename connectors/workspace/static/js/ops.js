// The ops page's boot (docs/workspace.md, "Ops page"): the workspace's sign-in and session cookie,
// supervisors and admins only (an agent is told so, politely), then the live part and the reports.
import { api } from "./api.js";
import { History } from "./ops-history.js";
import { Live } from "./ops-live.js";
import { reports, viewList } from "./ops-api.js";
import { RANK, bindSignin, whoIsSignedIn } from "./signin.js";

const $ = (id) => document.getElementById(id);

async function boot() {
  const me = await whoIsSignedIn();
  return me ? start(me) : show("signin");
}

function show(id) {
  for (const section of ["signin", "refused", "ops"]) $(section).hidden = section !== id;
  if (id === "signin") $("signin-form").elements.username.focus();
}

bindSignin(start);

async function signOut() {
  await api.logout().catch(() => {});
  location.reload();
}

async function start(raw) {
  const me = { ...(raw.person || {}), ...raw };
  const name = me.name || me.id || me.username || "you";
  if ((RANK[me.role] || 0) < RANK.supervisor) {
    $("refused-text").textContent = `You are signed in as ${name}, an ${me.role || "agent"}. ` +
      "Queue and agent reports need a supervisor's sign-in; your conversations are on your desk.";
    $("refused-signout").onclick = signOut;
    return show("refused");
  }
  show("ops");
  $("me-name").textContent = `${name} (${me.role})`;
  $("signout").onclick = signOut;
  const live = new Live(), history = new History();
  window.switchboard = { live, history };   // for the browser tests and the console
  let views;
  try { views = viewList(await reports.views()); } catch (exc) {
    $("live-error").textContent = `${exc.message} (reload the page to try again)`;
    return;
  }
  live.start(views);
  history.start(views).catch((exc) => { $("report-error").textContent = exc.message; });
}

boot().catch((exc) => {
  document.body.prepend(Object.assign(document.createElement("p"), { className: "error", textContent: `The ops page could not start: ${exc.message}` }));
});
