// The one push socket (docs/workspace.md "The push socket"): every event rendered once, the last
// rendered id acknowledged, and after any drop a reconnect with ?since=<last acked> and backoff —
// the edge replays what was missed, so the page never asks for a refresh.
const BACKOFF_MS = [250, 500, 1000, 2000, 4000, 8000];
const PING_MS = 25000;

export class PushSocket {
  constructor(onEvent, onState) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.lastId = sessionStorage.getItem("sb:last-event") || "";
    this.seen = new Set();
    this.attempt = 0;
    this.closed = false;
  }

  open() {
    this.closed = false;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const since = this.lastId ? `?since=${encodeURIComponent(this.lastId)}` : "";
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/ws${since}`);
    this.ws = ws;
    ws.onopen = () => { this.attempt = 0; this.onState("connected"); };
    ws.onmessage = (message) => this.receive(message.data);
    ws.onclose = () => { if (this.ws === ws) this.retry(); };
    ws.onerror = () => ws.close();
    clearInterval(this.pinger);
    this.pinger = setInterval(() => this.sendJson({ type: "ping" }), PING_MS);
  }

  receive(data) {
    let event;
    try { event = JSON.parse(data); } catch { return; }
    if (!event || !event.type || event.type === "pong") return;
    if (event.id && this.seen.has(event.id)) return;   // a replay overlapping what we rendered
    if (event.id) this.seen.add(event.id);
    try { this.onEvent(event); } finally {
      if (event.id) { this.lastId = event.id; sessionStorage.setItem("sb:last-event", event.id); this.ack(); }
    }
  }

  ack() {
    // One ack per burst: the server only needs the last rendered id.
    if (this.ackTimer) return;
    this.ackTimer = setTimeout(() => { this.ackTimer = null; this.sendJson({ type: "ack", id: this.lastId }); }, 50);
  }

  sendJson(body) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(body));
  }

  retry() {
    clearInterval(this.pinger);
    if (this.closed) return;
    const delay = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this.onState(`reconnecting in ${Math.round(delay / 100) / 10} s`);
    this.timer = setTimeout(() => this.open(), delay * (0.75 + Math.random() * 0.5));
  }

  drop() { if (this.ws) this.ws.close(); }   // used by tests and on network loss; retry() follows

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    if (this.ws) { const ws = this.ws; this.ws = null; ws.close(); }
  }
}
