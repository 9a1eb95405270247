// Wall clock in a named time zone <-> UTC, for the report filters: the viewer picks "today" or a
// from/to in the report's zone (the browser's by default), the API is given UTC ISO instants.
const FORMATS = new Map();

function format(tz) {
  if (!FORMATS.has(tz)) FORMATS.set(tz, new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23",
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" }));
  return FORMATS.get(tz);
}

export function validZone(tz) {
  try { format(tz); return true; } catch { return false; }
}

export function browserZone() { return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; }

// The wall clock in `tz` at the instant `ms`, as {y, m, d, h, mi, s} (m from 1).
function wall(ms, tz) {
  const p = Object.fromEntries(format(tz).formatToParts(new Date(ms)).map((x) => [x.type, Number(x.value)]));
  return { y: p.year, m: p.month, d: p.day, h: p.hour, mi: p.minute, s: p.second };
}

function offset(ms, tz) {
  const w = wall(ms, tz);
  return Date.UTC(w.y, w.m - 1, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000;
}

// The instant whose wall clock in `tz` is y-m-d h:mi (twice corrected, for a DST change in between).
export function zonedToUtc(y, m, d, h = 0, mi = 0, tz) {
  const guess = Date.UTC(y, m - 1, d, h, mi);
  const first = guess - offset(guess, tz);
  return guess - offset(first, tz);
}

const pad = (n) => String(n).padStart(2, "0");

// `YYYY-MM-DDTHH:mm` (a datetime-local value) of the instant `ms` in `tz`, and back.
export function localInput(ms, tz) {
  const w = wall(ms, tz);
  return `${w.y}-${pad(w.m)}-${pad(w.d)}T${pad(w.h)}:${pad(w.mi)}`;
}

export function fromInput(value, tz) {
  const match = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)/.exec(value || "");
  if (!match) return null;
  const [y, m, d, h, mi] = match.slice(1).map(Number);
  return zonedToUtc(y, m, d, h, mi, tz);
}

// A named interval as [from, to) epoch ms in `tz`: days start at the zone's midnight; those up to
// today end at the next whole minute (a datetime-local has minutes: this minute's facts included).
export function range(name, tz, now = Date.now()) {
  const w = wall(now, tz);
  const midnight = (days) => { const day = new Date(Date.UTC(w.y, w.m - 1, w.d + days)); return zonedToUtc(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), 0, 0, tz); };
  const spans = { today: 0, yesterday: -1, "7d": -6, "30d": -29 };
  const start = spans[name] ?? 0;
  return [midnight(start), name === "yesterday" ? midnight(0) : Math.ceil((now + 1) / 60_000) * 60_000];
}
