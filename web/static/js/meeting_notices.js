// What the meeting page tells its user: the banner (joining, reconnecting), short
// notices in a corner (toasts), the device message of the preview, and server errors in
// the page's language.

const TOAST_MS = 7000;

export class Notices {
  /**
   * @param {{banner: HTMLElement, toasts: HTMLElement, deviceMessage: HTMLElement}} el
   * @param {(key: string, params?: object) => string} t
   * @param {{lang: string, text: object, errors: object}} strings  the page's catalogue
   */
  constructor(el, t, strings) {
    this.el = el;
    this.t = t;
    this.strings = strings;
  }

  showBanner(text) {
    this.el.banner.textContent = text;
    this.el.banner.hidden = false;
  }

  hideBanner() {
    this.el.banner.hidden = true;
    this.el.banner.textContent = "";
  }

  /** A short notice; errors stay as long as the others and are announced at once. */
  toast(text, isError = false) {
    const item = document.createElement("div");
    item.className = isError ? "toast toast-error" : "toast";
    item.setAttribute("role", isError ? "alert" : "status");
    item.dataset.testid = "toast";
    const body = document.createElement("span");
    body.className = "toast-text";
    body.textContent = text;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.textContent = "×";
    close.setAttribute("aria-label", this.t("dismiss"));
    close.addEventListener("click", () => item.remove());
    item.append(body, close);
    this.el.toasts.append(item);
    setTimeout(() => item.remove(), TOAST_MS);
  }

  /** A server error in the page's language: the translated title, English detail in English. */
  errorText(error) {
    const title = this.strings.errors[error.code] || error.title || this.t("join_failed");
    if (this.strings.lang === "en" && error.detail && error.detail !== title) return `${title}: ${error.detail}`;
    return title;
  }

  /** Why the call is reconnecting, in the page's language. */
  reconnectReason(code) {
    const key = `reconnect_reason_${code}`;
    return key in this.strings.text ? this.strings.text[key] : this.t("reconnect_reason_connection_lost");
  }

  showDeviceMessage(text) {
    this.el.deviceMessage.textContent = text;
    this.el.deviceMessage.hidden = false;
  }
}
