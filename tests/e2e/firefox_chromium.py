"""Chromium and Firefox ESR meet through a real Giao Ban server, on loopback only.

Run it inside a private network namespace, where 127.0.0.1 is the only address:

    unshare -n sh -c 'ip link set lo up; exec python -m tests.e2e.firefox_chromium --out DIR'

The minister joins from Chromium (Playwright), told to prefer H.264 for its camera
(setCodecPreferences puts H.264 first in its offer); the secretary joins from Debian's
Firefox ESR, which has no H.264 offline, driven over WebDriver BiDi
(tests/e2e/firefox_page.py). The server must steer Chromium to VP8, and each browser
must decode the other's camera (getStats framesDecoded, growing) and hear the other's
microphone (audio energy, growing). Then the minister shares a screen offered as H.264
only: Firefox rejects that section, its page says the screen cannot be shown, and both
cameras and microphones go on. It writes DIR/result.json like the other scenarios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright

from tests.e2e.firefox_page import FirefoxPage, missing
from tests.e2e.two_browsers import (
    REPO,
    USERS,
    open_browser,
    prepare,
    serve_and_run,
    sign_in_and_join,
)

# Chromium's camera offers H.264 first (VP8 and the rest still listed after it); its
# screen offers H.264 only, so no steering can help Firefox there.
PREFER_H264 = """(() => {
  const addTransceiver = RTCPeerConnection.prototype.addTransceiver;
  RTCPeerConnection.prototype.addTransceiver = function (...args) {
    const transceiver = addTransceiver.apply(this, args);
    const track = transceiver.sender && transceiver.sender.track;
    if (track && track.kind === "video") {
      const codecs = RTCRtpReceiver.getCapabilities("video").codecs;
      const h264 = (c) => c.mimeType === "video/H264";
      const screen = track.getSettings().displaySurface !== undefined;
      transceiver.setCodecPreferences([...codecs.filter(h264),
        ...(screen ? [] : codecs.filter((c) => !h264(c)))]);
    }
    return transceiver;
  };
})();"""

# What one page receives, by the sender's username and source, read in the browser.
STATE = """async () => {
  const g = window.giaoban;
  const out = { phase: g ? g.state.phase : null, tiles: [], received: {}, sent: {},
                offered: null, pairs: [], rejected: 0, toasts: [] };
  out.toasts = [...document.querySelectorAll('[data-testid="toast"]')].map((e) => e.textContent);
  out.tiles = [...document.querySelectorAll('[data-testid="participant-tile"]')]
    .map((e) => e.dataset.participant).sort();
  const codecs = async (pc, type) => {
    const stats = await pc.getStats();
    const byId = new Map();
    stats.forEach((r) => byId.set(r.id, r));
    const rows = [];
    stats.forEach((r) => {
      const codec = (byId.get(r.codecId) || {}).mimeType || null;
      if (r.type === type) rows.push({ ...r, codec });
      const selected = r.type === "candidate-pair" && r.nominated && r.state === "succeeded";
      if (type === "inbound-rtp" && selected) {
        const local = byId.get(r.localCandidateId) || {};
        const remote = byId.get(r.remoteCandidateId) || {};
        out.pairs.push([local.address ?? local.ip, remote.address ?? remote.ip]);
      }
    });
    return rows;
  };
  const pub = g && g.publishPc;
  if (pub && pub.localDescription) {
    const video = pub.localDescription.sdp.split("m=").find((s) => s.startsWith("video"));
    const first = video && video.split("\\r\\n")[0].split(" ")[3];
    const map = video && video.match(new RegExp(`a=rtpmap:${first} ([^/]+)/`));
    out.offered = map ? map[1] : null;
    const sources = new Map([...(g.call.publishPc.getTransceivers())].map((t) => [t.mid,
      t.sender.track && t.sender.track.getSettings().displaySurface ? "screen" : "camera"]));
    for (const r of await codecs(pub, "outbound-rtp")) {
      if (r.kind === "video") {
        out.sent[sources.get(r.mid) || "camera"] = { codec: r.codec, frames: r.framesEncoded ?? 0 };
      }
    }
  }
  const sub = g && g.subscribePc;
  if (!sub) return out;
  out.rejected = (sub.localDescription?.sdp.match(/m=video 0 /g) || []).length;
  const owners = new Map([...g.call.consumers.values()].map((c) => [c.mid, c]));
  for (const r of await codecs(sub, "inbound-rtp")) {
    const owner = owners.get(r.mid);
    if (!owner) continue;
    const entry = out.received[`${owner.username}/${owner.source}`] = {
      kind: r.kind, codec: r.codec, packets: r.packetsReceived ?? 0,
    };
    if (r.kind === "video") entry.frames = r.framesDecoded ?? 0;
    else entry.energy = r.totalAudioEnergy ?? 0;
  }
  return out;
}"""


def screen_unsupported_text() -> str:
    """What the Vietnamese page says of a screen it cannot show, up to the name."""
    catalogue = json.loads((REPO / "web" / "locales" / "vi.json").read_text(encoding="utf-8"))
    return str(catalogue["js.screen_unsupported"]).split("{name}")[0]


def flows(state: dict[str, Any], sender: str) -> dict[str, float]:
    """Frames decoded of `sender`'s camera and audio energy of their microphone."""
    camera = state["received"].get(f"{sender}/camera", {})
    microphone = state["received"].get(f"{sender}/microphone", {})
    return {"frames": camera.get("frames", 0), "energy": microphone.get("energy", 0.0)}


async def scenario(work: Path, base: str, meeting_id: str, media_s: float) -> dict[str, Any]:
    result: dict[str, Any] = {"meeting_id": meeting_id, "checks": {}}
    checks = result["checks"]
    (minister, _, _, minister_password), (secretary, _, _, secretary_password) = USERS
    async with async_playwright() as pw:
        launching = time.monotonic()
        chromium, firefox = await asyncio.gather(
            open_browser(pw, work, base, minister),
            FirefoxPage.launch(base, work / "firefox.log"))
        await chromium.context.add_init_script(PREFER_H264)
        result["firefox"] = firefox.version
        result["seconds_to_launch"] = round(time.monotonic() - launching, 1)
        try:
            async def firefox_joins() -> None:
                await firefox.goto(f"{base}/m/{meeting_id}")
                await firefox.wait_for_path("/login")
                await firefox.fill("input[name=username]", secretary)
                await firefox.fill("input[name=password]", secretary_password)
                await firefox.click('[data-testid="login-button"]')
                await firefox.wait_for_path(f"/m/{meeting_id}")
                await firefox.wait_for(
                    "() => document.querySelector('#camera-select option')?.value !== ''",
                    "the camera list")
                await firefox.click('[data-testid="join-button"]')

            await asyncio.gather(sign_in_and_join(chromium, base, meeting_id, minister_password),
                                 firefox_joins())
            started = time.monotonic()

            async def states() -> tuple[dict[str, Any], dict[str, Any]]:
                return (await chromium.page.evaluate(STATE), await firefox.evaluate(STATE))

            deadline = started + media_s
            while True:
                seen = await states()
                now = (flows(seen[0], secretary), flows(seen[1], minister))
                if all(f["frames"] > 0 and f["energy"] > 0 for f in now) \
                        or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.5)
            result["seconds_to_media"] = round(time.monotonic() - started, 1)
            checks["each_decodes_the_other"] = all(f["frames"] > 0 and f["energy"] > 0
                                                   for f in now)
            await asyncio.sleep(2)
            later = await states()
            result["chromium"], result["firefox_state"] = later
            grew = [{k: flows(s, who)[k] - before[k] for k in before}
                    for s, who, before in zip(later, (secretary, minister), now, strict=True)]
            result["grew"] = {minister: grew[0], secretary: grew[1]}
            checks["media_keeps_flowing"] = all(v > 0 for g in grew for v in g.values())
            everyone = sorted((minister, secretary))
            checks["tiles"] = all(s["tiles"] == everyone for s in later)
            # Chromium offered H.264 first, and was answered with VP8 first.
            checks["chromium_offered_h264_first"] = later[0]["offered"] == "H264"
            checks["chromium_steered_to_vp8"] = (later[0]["sent"].get("camera", {})
                                                 .get("codec") == "video/VP8")
            checks["firefox_decodes_vp8"] = (later[1]["received"].get(f"{minister}/camera", {})
                                             .get("codec") == "video/VP8")
            checks["loopback_only"] = all(
                s["pairs"] and all(a == "127.0.0.1" for p in s["pairs"] for a in p)
                for s in later)
            await chromium.page.screenshot(path=str(work / "chromium.png"))
            await firefox.screenshot(work / "firefox.png")

            # The minister shares a screen only H.264 can carry: Firefox rejects that
            # section, its page says the screen cannot be shown, and the rest goes on.
            await chromium.page.click('[data-testid="screen-button"]')
            told = screen_unsupported_text()
            deadline = time.monotonic() + media_s
            while True:
                shared = await states()
                if (shared[1]["rejected"] and any(told in t for t in shared[1]["toasts"])
                        and shared[0]["sent"].get("screen", {}).get("codec")) \
                        or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.3)
            result["sharing"] = shared
            checks["screen_sent_as_h264"] = (shared[0]["sent"].get("screen", {})
                                             .get("codec") == "video/H264")
            checks["firefox_rejects_the_screen"] = shared[1]["rejected"] == 1
            checks["firefox_told_screen_unsupported"] = any(told in t
                                                            for t in shared[1]["toasts"])
            await firefox.screenshot(work / "firefox-screen.png")
            await asyncio.sleep(2)
            after = await states()
            checks["media_flows_beside_the_rejected_screen"] = all(
                flows(a, who)["frames"] > flows(b, who)["frames"]
                and flows(a, who)["energy"] > flows(b, who)["energy"]
                for a, b, who in zip(after, shared, (secretary, minister), strict=True))
        finally:
            result["problems"] = {minister: chromium.problems,
                                  secretary: await firefox.problems()
                                  if firefox._process.returncode is None else []}
            await firefox.close()
            await chromium.context.close()
    checks["no_page_problems"] = not any(result["problems"].values())
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for results and logs")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for media")
    args = parser.parse_args()
    work: Path = args.out.resolve()
    work.mkdir(parents=True, exist_ok=True)
    problem = missing()
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    prepared: dict[str, str] = {}

    def prepare_server(port: int) -> Path:
        config, prepared["meeting"] = prepare(work, port)
        return config

    return serve_and_run(work, {"server_log": str(work / "server.log")}, prepare_server,
                         lambda base, _: scenario(work, base, prepared["meeting"],
                                                  args.timeout))


if __name__ == "__main__":
    sys.exit(main())
