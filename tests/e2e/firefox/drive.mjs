// Drives one headless Firefox ESR page over WebDriver BiDi (puppeteer-core), for the
// browser scenarios written in Python (tests/e2e/firefox_page.py).
//
// stdin: one JSON command a line, {"id": 1, "op": "goto", ...}; stdout: one JSON reply
// a line, {"id": 1, "ok": true, "value": ...} or {"id": 1, "ok": false, "error": "..."}.
// Ops: goto {url}, fill {selector, value}, click {selector},
// eval {expr: the source of a (possibly async) function},
// screenshot {path}, problems, close. Nothing is downloaded: the browser is the
// Debian package's binary.

import { createInterface } from "node:readline";
import puppeteer from "puppeteer-core";

const FIREFOX = process.env.FIREFOX || "/usr/bin/firefox-esr";
const ORIGIN = process.argv[2] ? new URL(process.argv[2]).origin : null;

// A fake camera and microphone, granted, with loopback host candidates and no mDNS
// names: without the permissions, Firefox gathers candidates only on the default route.
const PREFS = {
  "media.navigator.streams.fake": true,
  "media.navigator.permission.disabled": true,
  "permissions.default.camera": 1,
  "permissions.default.microphone": 1,
  "media.peerconnection.ice.loopback": true,
  "media.peerconnection.ice.obfuscate_host_addresses": false,
  "media.autoplay.default": 0,
  "media.gmp-manager.updateEnabled": false,
  "app.update.enabled": false,
  "browser.shell.checkDefaultBrowser": false,
};

const browser = await puppeteer.launch({
  browser: "firefox",
  executablePath: FIREFOX,
  headless: true,
  extraPrefsFirefox: PREFS,
  defaultViewport: { width: 1280, height: 800 },
});
const page = (await browser.pages())[0] || (await browser.newPage());
const problems = [];
page.on("console", (message) => {
  if (message.type() === "error") problems.push(`console: ${message.text()}`);
});
page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
page.on("request", (request) => {
  const url = new URL(request.url());
  if (ORIGIN && ["http:", "https:", "ws:", "wss:"].includes(url.protocol) && url.origin !== ORIGIN) {
    problems.push(`request outside the server: ${url.href}`);
  }
});

const ops = {
  goto: async (c) => { await page.goto(c.url); },
  fill: async (c) => {
    await page.$eval(c.selector, (e) => { e.value = ""; });
    await page.type(c.selector, c.value);
  },
  click: async (c) => { await page.click(c.selector); },
  eval: async (c) => page.evaluate(`(${c.expr})()`),
  screenshot: async (c) => { await page.screenshot({ path: c.path }); },
  problems: async () => problems,
  close: async () => { await browser.close(); },
};

function reply(message) {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

reply({ id: 0, ok: true, value: await browser.version() });
for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  let command;
  try {
    command = JSON.parse(line);
  } catch (err) {
    reply({ id: null, ok: false, error: `not JSON: ${err}` });
    continue;
  }
  const op = ops[command.op];
  try {
    if (!op) throw new Error(`unknown op ${command.op}`);
    const value = await op(command);
    reply({ id: command.id, ok: true, value: value === undefined ? null : value });
  } catch (err) {
    reply({ id: command.id, ok: false, error: String(err && err.stack ? err.stack : err) });
  }
  if (command.op === "close") break;
}
await browser.close().catch(() => {});
process.exit(0);
