"""Two Chromium users in a meeting; on one page both peer connections report
`failed` and the socket reports closed in the same moment. The page rejoins once for
that loss (one `join`, one reconnecting phase at the first backoff step) and decodes
the other again; the other page is not affected.

The failures are delivered to the page's real connections in one task, each one even
after the page closed it while handling an earlier one: a stricter order than a
browser's, which drops the events of a closed connection.

Run it inside a private network namespace, as tests/e2e/two_browsers.py explains:

    unshare -n sh -c 'ip link set lo up; exec python tests/e2e/simultaneous_loss.py --out DIR'
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.e2e.two_browsers import (  # noqa: E402
    USERS,
    open_browser,
    poll,
    prepare,
    serve_and_run,
    sign_in_and_join,
)
from tests.e2e.worker_recovery import (  # noqa: E402
    SOCKET_MARK,
    SOCKET_RECORDER,
    decodes,
    joins_since,
)

RECORD_PHASES = """() => {
  // Every phase the call enters from now on, with its backoff step.
  const hooks = window.giaoban.call.hooks;
  const onPhase = hooks.onPhase;
  window.__phases = [];
  hooks.onPhase = (phase, detail) => {
    window.__phases.push([phase, detail && detail.attempt ? detail.attempt : null]);
    onPhase(phase, detail);
  };
}"""
FAIL_ALL = """() => {
  // Both peer connections fail and the socket closes, all in this one task.
  const call = window.giaoban.call;
  const pcs = [call.publishPc, call.subscribePc].filter(Boolean);
  const ws = call.client && call.client.ws;
  for (const pc of pcs) {
    Object.defineProperty(pc, "connectionState", { get: () => "failed", configurable: true });
  }
  for (const pc of pcs) pc.dispatchEvent(new Event("connectionstatechange"));
  if (ws) ws.dispatchEvent(new CloseEvent("close", { code: 1006 }));
  return { peerConnections: pcs.length, socket: Boolean(ws) };
}"""
PARTICIPANT = "() => window.giaoban.state.participantId"
BACKOFF_MAX_S = 5
"""web/static/js/call.js's longest wait before a rejoin (BACKOFF_MAX_MS)."""


async def scenario(work: Path, base: str, meeting_id: str) -> dict[str, Any]:
    result: dict[str, Any] = {"meeting_id": meeting_id, "checks": {}}
    checks = result["checks"]
    names = [u[0] for u in USERS]
    async with async_playwright() as pw:
        browsers = [await open_browser(pw, work, base, u[0]) for u in USERS]
        for b in browsers:
            await b.context.add_init_script(SOCKET_RECORDER)
        lost, other = browsers
        try:
            await asyncio.gather(*(sign_in_and_join(b, base, meeting_id, u[3])
                                   for b, u in zip(browsers, USERS, strict=True)))
            ok, _ = await poll(browsers, lambda b, s: decodes(
                s, [n for n in names if n != b.username]), 60)
            checks["media_before"] = ok
            was = await lost.page.evaluate(PARTICIPANT)
            marks = [await b.page.evaluate(SOCKET_MARK) for b in browsers]
            await lost.page.evaluate(RECORD_PHASES)
            result["failed"] = await lost.page.evaluate(FAIL_ALL)
            checks["all_three_failed"] = result["failed"] == {"peerConnections": 2, "socket": True}

            # Back: a new participant on the lost page, each page decoding the other.
            ok, _ = await poll(browsers, lambda b, s: decodes(
                s, [n for n in names if n != b.username]), 60)
            for _ in range(120):
                if await lost.page.evaluate(PARTICIPANT) != was:
                    break
                await asyncio.sleep(0.5)
            ok, _ = await poll(browsers, lambda b, s: decodes(
                s, [n for n in names if n != b.username]), 60)
            checks["both_decode_again"] = ok and await lost.page.evaluate(PARTICIPANT) != was
            # A second rejoin scheduled for the same loss would go out within the longest
            # backoff step: stay that long, then the page must still be the same participant.
            back_as = await lost.page.evaluate(PARTICIPANT)
            await asyncio.sleep(BACKOFF_MAX_S + 1)
            ok, _ = await poll(browsers, lambda b, s: decodes(
                s, [n for n in names if n != b.username]), 60)
            checks["stays_joined"] = ok and await lost.page.evaluate(PARTICIPANT) == back_as

            joins = {b.username: await joins_since(b.page, mark)
                     for b, mark in zip(browsers, marks, strict=True)}
            phases = await lost.page.evaluate("() => window.__phases")
            result["joins_after_loss"] = joins
            result["phases_after_loss"] = phases
            checks["one_join_for_the_loss"] = joins[lost.username]["joins"] == 1
            checks["one_reconnecting_phase"] = (
                [p for p in phases if p[0] == "reconnecting"] == [["reconnecting", 1]])
            checks["other_page_did_not_rejoin"] = joins[other.username]["joins"] == 0
            for b in browsers:
                await b.page.screenshot(path=str(work / f"loss-{b.username}.png"))
        finally:
            result["problems"] = {b.username: [p for p in b.problems
                                               if "WebSocket" not in p and "ERR_" not in p]
                                  for b in browsers}
            for b in browsers:
                await b.context.close()
    checks["no_page_problems"] = not any(result["problems"].values())
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for results and logs")
    args = parser.parse_args()
    work: Path = args.out.resolve()
    work.mkdir(parents=True, exist_ok=True)
    prepared: dict[str, str] = {}

    def prepare_server(port: int) -> Path:
        config, prepared["meeting"] = prepare(work, port)
        return config

    return serve_and_run(work, {"server_log": str(work / "server.log")}, prepare_server,
                         lambda base, _: scenario(work, base, prepared["meeting"]))


if __name__ == "__main__":
    sys.exit(main())
