// Why this page has no camera or microphone at all, in words the user can act on.

/**
 * The message for a browser that offers no camera or microphone (`t` translates
 * "js." strings). Browsers give them only to secure pages: an HTTPS address, or
 * the server machine itself.
 */
export function mediaUnavailableText(t) {
  if (!window.isSecureContext) {
    return t("insecure_context", { address: window.location.origin });
  }
  return t("unsupported");
}
