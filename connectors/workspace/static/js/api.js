// The agent API (docs/workspace.md): JSON over fetch, the sb_token cookie carries the session.
export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

async function call(method, path, body) {
  const init = { method, credentials: "same-origin", headers: {} };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
  const response = await fetch(`/api/v1${path}`, init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { error: text }; }
  if (!response.ok) throw new ApiError(response.status, (data && data.error) || `${method} ${path}: ${response.status}`);
  return data;
}

const q = (id) => encodeURIComponent(id);
export const api = {
  login: (tenant, username, password) => call("POST", "/auth/login", { tenant, username, password }),
  logout: () => call("POST", "/auth/logout"),
  me: () => call("GET", "/me"),
  presence: (presence, on_queue) => call("PUT", "/me/presence", { presence, on_queue }),
  offers: () => call("GET", "/offers"),
  accept: (offerId) => call("POST", `/offers/${q(offerId)}/accept`),
  decline: (offerId) => call("POST", `/offers/${q(offerId)}/decline`),
  conversations: () => call("GET", "/conversations"),
  conversation: (id) => call("GET", `/conversations/${q(id)}`),
  history: (id, before) => call("GET", `/conversations/${q(id)}/history?limit=50${before ? `&before=${q(before)}` : ""}`),
  messages: (id) => call("GET", `/conversations/${q(id)}/messages`),
  policy: (id) => call("GET", `/conversations/${q(id)}/policy`),
  sendTemplate: (id, template, client_id) => call("POST", `/conversations/${q(id)}/messages`, { template, client_id }),
  send: (id, content, client_id) => call("POST", `/conversations/${q(id)}/messages`, { content, client_id }),
  typing: (id) => call("POST", `/conversations/${q(id)}/typing`),
  transfer: (id, body) => call("POST", `/conversations/${q(id)}/transfer`, body),
  end: (id) => call("POST", `/conversations/${q(id)}/end`),
  wrapup: (id, code, note) => call("POST", `/conversations/${q(id)}/wrapup`, { code, note }),
  customer: (id, details) => call("POST", `/conversations/${q(id)}/customer`, details),
  answerSuggestion: (id, answer) => call("POST", `/conversations/${q(id)}/customer/suggestions`, answer),
  upload: (file) => { const form = new FormData(); form.append("file", file); return call("POST", "/media", form); },
  canned: (queue) => call("GET", `/canned-responses${queue ? `?queue=${q(queue)}` : ""}`),
  queues: () => call("GET", "/queues"),
  agents: () => call("GET", "/agents"),
  svAgents: () => call("GET", "/supervisor/agents"),
  svQueues: () => call("GET", "/supervisor/queues"),
  svTimeline: (id) => call("GET", `/supervisor/conversations/${q(id)}/timeline`),
  svDecisions: (id) => call("GET", `/supervisor/conversations/${q(id)}/decisions`),
};

// Lists may come bare or wrapped ({items: [...]}, {conversations: [...]}): take the array.
export function listOf(data, ...keys) {
  if (Array.isArray(data)) return data;
  for (const key of [...keys, "items", "results"]) if (data && Array.isArray(data[key])) return data[key];
  return [];
}
