// The invitee picker: type part of a name, a unit, a role or a saved group ("hung"
// finds "Hùng"; the server folds diacritics), pick a result, and it becomes a chip. A
// group or a whole unit adds every member at once. The chosen usernames stay in the form's own "invitees"
// field, so the server reads the same field with or without this script.

const DELAY_MS = 150;

function setUp(root) {
  const plain = root.querySelector(".invitee-plain");
  const chips = root.querySelector(".invitee-chips");
  const search = root.querySelector(".invitee-search");
  const results = root.querySelector(".invitee-results");
  const data = JSON.parse(root.querySelector(".invitee-data").textContent);
  const strings = data.strings;
  const say = (key, params = {}) => (strings[key] ?? key).replace(
    /\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  const chosen = new Map(data.chips.map((c) => [c.username, c.display_name]));
  let timer = null;
  let asked = 0;

  function sync() {
    plain.value = [...chosen.keys()].join(",");
    chips.replaceChildren(...[...chosen].map(([username, name]) => {
      const chip = document.createElement("li");
      chip.className = "invitee-chip";
      chip.dataset.username = username;
      chip.dataset.testid = "invitee-chip";
      const label = document.createElement("span");
      label.textContent = name;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button button-quiet";
      remove.textContent = "×";
      remove.setAttribute("aria-label", say("remove", { name }));
      remove.addEventListener("click", () => { chosen.delete(username); sync(); search.focus(); });
      chip.append(label, remove);
      return chip;
    }));
  }

  function add(people) {
    for (const person of people) chosen.set(person.username, person.display_name);
    sync();
    search.value = "";
    results.hidden = true;
    search.focus();
  }

  function option(text, detail, people, testid) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "invitee-option";
    button.dataset.testid = testid;
    const main = document.createElement("span");
    main.textContent = text;
    const more = document.createElement("span");
    more.className = "muted";
    more.textContent = ` · ${detail}`;
    button.append(main, more);
    button.addEventListener("click", () => add(people));
    item.append(button);
    return item;
  }

  async function lookUp() {
    const query = search.value.trim();
    if (!query) { results.hidden = true; return; }
    const mine = ++asked;
    const response = await fetch(`/api/directory?q=${encodeURIComponent(query)}`,
      { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (mine !== asked || !response.ok) return;
    const found = await response.json();
    const items = [
      ...found.groups.map((g) => option(say("group", { name: g.name }),
        say("members", { count: g.members.length }), g.members, "invitee-group")),
      ...found.units.map((u) => option(say("unit", { name: u.name }),
        say("members", { count: u.members.length }), u.members, "invitee-unit")),
      ...found.people.filter((p) => !chosen.has(p.username)).map((p) => option(
        p.display_name, [p.role, p.unit].filter(Boolean).join(", ") + ` (${p.username})`,
        [p], "invitee-person")),
    ];
    if (!items.length) {
      const none = document.createElement("li");
      none.className = "muted";
      none.textContent = say("none");
      items.push(none);
    }
    results.replaceChildren(...items);
    results.hidden = false;
  }

  for (const name of plain.value.split(",").map((n) => n.trim()).filter(Boolean)) {
    if (!chosen.has(name)) chosen.set(name, name);
  }
  plain.type = "hidden";
  chips.hidden = false;
  search.hidden = false;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(lookUp, DELAY_MS); });
  search.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {  // pick the first result instead of sending the form
      event.preventDefault();
      results.querySelector("button")?.click();
    }
  });
  sync();
  root.dataset.ready = "true";
}

for (const root of document.querySelectorAll("[data-invitee-picker]")) setUp(root);
