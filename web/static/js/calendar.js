// The clerk's week of rooms: the three rooms side by side for each day of a week.
// Click a free hour to book it, click a booking to change or cancel it. A clash is shown
// in the dialog with the clashing booking's details, as the server names it (409).
// Times travel as local wall-clock text (YYYY-MM-DDTHH:MM); the server reads them in
// the configured time zone and answers with its offset.

// The hours shown: 07:00 to 20:00, widened to the earliest start and the latest end of
// the week's bookings, so a meeting at 06:00 or 21:00 is drawn at its true size.
let FIRST_HOUR = 7;
let LAST_HOUR = 20;
const HOUR_PX = 48;

const root = document.getElementById("calendar-app");
const data = JSON.parse(document.getElementById("calendar-data").textContent);
const strings = data.strings;
const csrf = root.dataset.csrf;
const $ = (id) => document.getElementById(id);
const dialog = $("booking-dialog");
const form = $("booking-form");
const conflictBox = $("booking-conflict");
const buttons = {
  save: $("booking-save"), freeOnly: $("booking-free-only"),
  cancel: $("booking-cancel"), close: $("booking-close"),
};
let editing = null; // the booking open in the dialog, or null for a new one
let bookings = [];

function say(key, params = {}) {
  const text = strings[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

const pad = (n) => String(n).padStart(2, "0");
const dateOf = (iso) => iso.slice(0, 10);
const timeOf = (iso) => iso.slice(11, 16);
const minutesOf = (iso) => Number(iso.slice(11, 13)) * 60 + Number(iso.slice(14, 16));

async function api(method, path, body) {
  const response = await fetch(path, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, payload };
}

// ---------------------------------------------------------------- the grid

/** The hour span that holds every booking of the week, at least 07:00–20:00. */
function fitHours() {
  FIRST_HOUR = 7;
  LAST_HOUR = 20;
  for (const booking of bookings) {
    const start = Math.floor(minutesOf(booking.start) / 60);
    const sameDay = dateOf(booking.end) === dateOf(booking.start);
    const end = sameDay ? Math.ceil(minutesOf(booking.end) / 60) : 24;
    FIRST_HOUR = Math.min(FIRST_HOUR, start);
    LAST_HOUR = Math.max(LAST_HOUR, end);
  }
}

/** One column of hour labels beside the week, level with the rooms' slots. */
function buildRuler() {
  const ruler = document.querySelector(".week-hours");
  const first = document.querySelector(".room-slots");
  if (!ruler || !first) return;
  const spacer = document.createElement("div");
  spacer.className = "week-corner";
  spacer.style.height = `${first.getBoundingClientRect().top - ruler.getBoundingClientRect().top}px`;
  const hours = document.createElement("div");
  hours.className = "ruler-hours";
  hours.style.height = `${(LAST_HOUR - FIRST_HOUR) * HOUR_PX}px`;
  for (let hour = FIRST_HOUR; hour < LAST_HOUR; hour += 1) {
    const label = document.createElement("span");
    label.className = "ruler-hour";
    label.dataset.testid = "hour-label";
    label.textContent = `${pad(hour)}:00`;
    label.style.top = `${(hour - FIRST_HOUR) * HOUR_PX}px`;
    hours.append(label);
  }
  ruler.replaceChildren(spacer, hours);
}

function buildSlots() {
  for (const column of document.querySelectorAll('[data-testid="room-column"]')) {
    const slots = column.querySelector(".room-slots");
    slots.replaceChildren();
    slots.style.height = `${(LAST_HOUR - FIRST_HOUR) * HOUR_PX}px`;
    for (let hour = FIRST_HOUR; hour < LAST_HOUR; hour += 1) {
      const slot = document.createElement("button");
      slot.type = "button";
      slot.className = "slot";
      slot.dataset.testid = "slot";
      slot.dataset.hour = pad(hour);
      slot.setAttribute("aria-label", `${pad(hour)}:00`);
      slot.style.top = `${(hour - FIRST_HOUR) * HOUR_PX}px`;
      slot.style.height = `${HOUR_PX}px`;
      slot.addEventListener("click", () => openNew(column.dataset.room, column.dataset.date, hour));
      slots.append(slot);
    }
  }
}

function showBookings() {
  for (const old of document.querySelectorAll('[data-testid="booking"]')) old.remove();
  for (const booking of bookings) {
    const column = document.querySelector(
      `[data-testid="room-column"][data-room="${booking.room_id}"][data-date="${dateOf(booking.start)}"]`);
    if (!column) continue;
    const top = Math.max(0, minutesOf(booking.start) - FIRST_HOUR * 60);
    const sameDay = dateOf(booking.end) === dateOf(booking.start);
    const endMinutes = sameDay ? minutesOf(booking.end) : LAST_HOUR * 60;
    const bottom = Math.min((LAST_HOUR - FIRST_HOUR) * 60, endMinutes - FIRST_HOUR * 60);
    const block = document.createElement("button");
    block.type = "button";
    block.className = "booking-block";
    block.dataset.testid = "booking";
    block.dataset.bookingId = String(booking.id);
    block.style.top = `${(top / 60) * HOUR_PX}px`;
    block.style.height = `${Math.max(18, ((bottom - top) / 60) * HOUR_PX)}px`;
    const when = document.createElement("span");
    when.className = "booking-time";
    when.textContent = `${timeOf(booking.start)}–${timeOf(booking.end)}`;
    const title = document.createElement("span");
    title.className = "booking-title";
    title.textContent = booking.title;
    block.append(when, title);
    block.title = `${booking.title} (${say("booked_by", { name: booking.booked_by })})`;
    block.addEventListener("click", () => openExisting(booking));
    column.querySelector(".room-slots").append(block);
  }
}

async function load() {
  const days = data.days;
  const from = `${days[0]}T00:00`;
  const last = new Date(`${days[days.length - 1]}T12:00:00Z`);
  last.setUTCDate(last.getUTCDate() + 1);
  const to = `${last.toISOString().slice(0, 10)}T00:00`;
  const result = await api("GET", `/api/bookings?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
  const error = $("calendar-error");
  if (!result.ok) {
    error.textContent = result.payload.message || result.payload.detail || say("load_failed");
    error.hidden = false;
    return;
  }
  error.hidden = true;
  bookings = result.payload.bookings;
  fitHours();
  buildSlots();
  buildRuler();
  showBookings();
  root.dataset.loaded = "1";
}

// ---------------------------------------------------------------- the dialog

function field(name) {
  return form.elements.namedItem(name);
}

function clearConflict() {
  conflictBox.replaceChildren();
  conflictBox.hidden = true;
  buttons.freeOnly.hidden = true;
}

function openNew(roomId, date, hour) {
  editing = null;
  clearConflict();
  $("booking-meeting").hidden = true;
  for (const name of ["title", "date", "start", "end"]) field(name).disabled = false;
  $("booking-heading").textContent = say("new_booking");
  field("title").value = "";
  field("room_id").value = roomId;
  field("date").value = date;
  field("start").value = `${pad(hour)}:00`;
  field("end").value = `${pad(hour + 1)}:00`;
  field("weeks").value = "1";
  $("repeat-field").hidden = false;
  buttons.cancel.hidden = true;
  dialog.showModal();
  field("title").focus();
}

function openExisting(booking) {
  editing = booking;
  clearConflict();
  const ofMeeting = Boolean(booking.meeting_id);
  $("booking-heading").textContent = ofMeeting
    ? say("meeting_booking", { title: booking.title }) : say("edit_booking", { id: booking.id });
  $("booking-meeting").hidden = !ofMeeting;
  $("booking-meeting-link").href = ofMeeting ? `/meetings/${booking.meeting_id}/edit` : "#";
  for (const name of ["title", "date", "start", "end"]) field(name).disabled = ofMeeting;
  field("title").value = booking.title;
  field("room_id").value = booking.room_id;
  field("date").value = dateOf(booking.start);
  field("start").value = timeOf(booking.start);
  field("end").value = timeOf(booking.end);
  $("repeat-field").hidden = true;
  buttons.cancel.hidden = false;
  dialog.showModal();
}

function wanted() {
  const date = field("date").value;
  return {
    title: field("title").value.trim(),
    room_id: field("room_id").value,
    start: `${date}T${field("start").value}`,
    end: `${date}T${field("end").value}`,
  };
}

function clashLine(clash) {
  const b = clash.booking;
  return say("clash", {
    id: b.id, title: b.title, date: dateOf(b.start).split("-").reverse().join("/"),
    start: timeOf(b.start), end: timeOf(b.end), by: b.booked_by,
  });
}

/** Show what the server refused: each clash with its booking, or the problem's detail. */
function showProblem(result, recurring) {
  conflictBox.replaceChildren();
  const problem = result.payload;
  const heading = document.createElement("p");
  heading.className = "conflict-heading";
  heading.textContent = problem.clashes ? say("conflict")
    : (problem.message || problem.detail || say("save_failed"));
  conflictBox.append(heading);
  if (problem.clashes) {
    const list = document.createElement("ul");
    for (const clash of problem.clashes) {
      const item = document.createElement("li");
      item.dataset.testid = "conflict-item";
      item.dataset.bookingId = String(clash.booking.id);
      item.textContent = recurring
        ? `${dateOf(clash.start).split("-").reverse().join("/")}: ${clashLine(clash)}`
        : clashLine(clash);
      list.append(item);
    }
    conflictBox.append(list);
    const free = (problem.free || []).length;
    if (recurring && free > 0) {
      const note = document.createElement("p");
      note.textContent = say("free_count", { count: free });
      conflictBox.append(note);
      buttons.freeOnly.hidden = false;
    }
  }
  conflictBox.hidden = false;
}

async function save(policy) {
  const body = wanted();
  if (!body.title) {
    field("title").reportValidity();
    return;
  }
  let result;
  const weeks = Number(field("weeks").value) || 1;
  const recurring = !editing && weeks > 1;
  if (editing) {
    result = await api("PATCH", `/api/bookings/${editing.id}`, body);
  } else {
    if (recurring) body.recurrence = { frequency: "weekly", count: weeks };
    if (policy) body.policy = policy;
    result = await api("POST", "/api/bookings", body);
  }
  if (!result.ok) {
    showProblem(result, recurring);
    return;
  }
  dialog.close();
  await load();
}

async function cancelBooking() {
  if (!editing) return;
  const result = await api("DELETE", `/api/bookings/${editing.id}`);
  if (!result.ok) {
    showProblem(result, false);
    return;
  }
  dialog.close();
  await load();
}

buttons.save.addEventListener("click", () => save(null));
buttons.freeOnly.addEventListener("click", () => save("free_only"));
buttons.cancel.addEventListener("click", () => cancelBooking());
buttons.close.addEventListener("click", () => dialog.close());

buildSlots();
load();
