// The meeting's chat panel: messages to everyone or to the hosts, shown as text only.
// A link becomes clickable only when it points at this server's own origin.

import { messages } from "./protocol.js";

const URL_PATTERN = /https?:\/\/[^\s<>"']+/g;

/** Text with the server's own links as <a>, everything else as plain text nodes. */
export function renderText(text, origin = location.origin) {
  const fragment = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    let url = null;
    try {
      url = new URL(match[0]);
    } catch {
      url = null;
    }
    if (!url || url.origin !== origin) continue;
    fragment.append(document.createTextNode(text.slice(last, match.index)));
    const link = document.createElement("a");
    link.href = url.href;
    link.textContent = match[0];
    link.target = "_blank";
    link.rel = "noopener";
    fragment.append(link);
    last = match.index + match[0].length;
  }
  fragment.append(document.createTextNode(text.slice(last)));
  return fragment;
}

export class ChatPanel {
  /**
   * @param {object} options
   * @param {object} options.el      button, panel, list, form, input, toHosts
   * @param {(key: string, params?: object) => string} options.t
   * @param {(message: object) => boolean} options.send  sends a client message
   * @param {(time: string) => string} options.time       a local time for a message
   */
  constructor({ el, t, send, time }) {
    this.el = el;
    this.t = t;
    this.send = send;
    this.time = time;
    this.seen = new Set();
    el.button.addEventListener("click", () => this.toggle());
    el.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    el.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        this.submit();
      }
    });
  }

  toggle(open = this.el.panel.hidden) {
    this.el.panel.hidden = !open;
    this.el.button.setAttribute("aria-pressed", String(open));
    this.el.button.classList.remove("has-unread");
    if (open) this.el.input.focus();
  }

  submit() {
    const text = this.el.input.value.trim();
    if (!text) return;
    const to = this.el.toHosts.checked ? "hosts" : "everyone";
    if (this.send(messages.chat(text, to))) this.el.input.value = "";
  }

  /** The conversation so far (on joining); messages already shown stay once. */
  history(lines) {
    for (const line of lines) this.add(line, false);
  }

  add(line, fresh = true) {
    if (this.seen.has(line.id)) return;
    this.seen.add(line.id);
    const item = document.createElement("li");
    item.className = line.to === "hosts" ? "chat-message chat-private" : "chat-message";
    item.dataset.testid = "chat-message";
    item.dataset.author = line.author;
    item.dataset.id = String(line.id);
    const head = document.createElement("div");
    head.className = "chat-head";
    const author = document.createElement("strong");
    author.textContent = line.guest ? `${line.author_name} (${this.t("lobby_guest")})` : line.author_name;
    const when = document.createElement("time");
    when.dateTime = line.sent_at;
    when.textContent = this.time(line.sent_at);
    head.append(author, " ", when);
    if (line.to === "hosts") {
      const mark = document.createElement("span");
      mark.className = "chat-to-mark";
      mark.textContent = ` · ${this.t("chat_to_hosts")}`;
      head.append(mark);
    }
    const body = document.createElement("p");
    body.className = "chat-text";
    body.append(renderText(line.text));
    item.append(head, body);
    this.el.list.append(item);
    item.scrollIntoView({ block: "nearest" });
    if (fresh && this.el.panel.hidden) this.el.button.classList.add("has-unread");
  }

  /** The server refused a chat message: why, in the page's language. */
  errorText(error) {
    const rule = error.extra && error.extra.rule;
    if (rule === "chat_rate") return this.t("chat_error_chat_rate");
    if (rule === "chat_too_long") return this.t("chat_error_chat_too_long");
    if (rule === "chat_empty") return this.t("chat_error_chat_empty");
    return null;
  }

  clear() {
    this.seen.clear();
    this.el.list.replaceChildren();
  }
}
