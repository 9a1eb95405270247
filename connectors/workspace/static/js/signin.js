// The sign-in both pages share (the desk and the ops page): who is signed in, else the form; then `start(me)`.
import { api, ApiError } from "./api.js";

export const RANK = { agent: 1, supervisor: 2, admin: 3 };

// The session's person, or null when nobody is signed in (401); any other failure is thrown.
export async function whoIsSignedIn() {
  try { return await api.me(); } catch (exc) {
    if (exc instanceof ApiError && exc.status === 401) return null;
    throw exc;
  }
}

// The form `#signin-form` signs in and calls `start(me)`; `#signin-error` says why it could not.
export function bindSignin(start, { beforeStart = () => {} } = {}) {
  const form = document.getElementById("signin-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = event.target.elements;
    document.getElementById("signin-error").textContent = "";
    try {
      await api.login(f.tenant.value.trim(), f.username.value.trim(), f.password.value);
      f.password.value = "";
      beforeStart();
      await start(await api.me());
    } catch (exc) { document.getElementById("signin-error").textContent = exc.message; }
  });
}
