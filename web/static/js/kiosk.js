// The room kiosk: shows the current and the next booking, and on the room's own device
// opens the booked meeting (which joins by itself) when the booking starts.
// Times come from the server as "in N ms", so the device's clock does not matter.

const root = document.getElementById("kiosk-app");
const data = JSON.parse(document.getElementById("kiosk-data").textContent);
const strings = data.strings;
const roomId = root.dataset.room;
const autoJoin = root.dataset.autoJoin === "1";
const statusLine = document.getElementById("kiosk-status");
let joinTimer = null;
let pollTimer = null;

function say(key, params = {}) {
  const text = strings[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

function fill(testid, booking) {
  const box = document.querySelector(`[data-testid="${testid}"]`);
  const heading = box.querySelector("h2");
  box.replaceChildren(heading);
  if (!booking) {
    const free = document.createElement("p");
    free.className = "muted";
    free.dataset.field = "title";
    free.textContent = say("free");
    box.append(free);
    return;
  }
  const when = document.createElement("p");
  when.className = "kiosk-time";
  when.textContent = `${booking.start}–${booking.end} ${booking.date}`;
  const title = document.createElement("p");
  title.className = "kiosk-title";
  title.dataset.field = "title";
  title.textContent = booking.title;
  box.append(when, title);
}

function showStatus(text) {
  statusLine.textContent = text;
  statusLine.hidden = !text;
}

function join(booking) {
  showStatus(say("joining", { title: booking.title }));
  location.assign(booking.join_url);
}

/** Join now when a booked meeting is on; otherwise be ready at the next one's start. */
function plan(state) {
  fill("kiosk-current", state.current);
  fill("kiosk-next", state.next);
  if (joinTimer) clearTimeout(joinTimer);
  joinTimer = null;
  showStatus("");
  if (!autoJoin) return;
  if (state.current && state.current.join_url) {
    join(state.current);
    return;
  }
  const next = state.next;
  if (next && next.join_url) {
    showStatus(say("waiting", { time: next.start }));
    if (next.starts_in_ms < state.poll_ms * 2) {
      joinTimer = setTimeout(() => join(next), Math.max(0, next.starts_in_ms));
    }
  }
}

async function poll() {
  try {
    const response = await fetch(`/api/rooms/${encodeURIComponent(roomId)}/kiosk`, {
      credentials: "same-origin", headers: { Accept: "application/json" },
    });
    if (response.status === 401) {
      location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
      return;
    }
    if (response.ok) plan(await response.json());
  } catch (err) {
    showStatus(say("offline"));
  }
  pollTimer = setTimeout(poll, data.state.poll_ms);
}

plan(data.state);
pollTimer = setTimeout(poll, data.state.poll_ms);
window.giaobanKiosk = { get pollTimer() { return pollTimer; } };
