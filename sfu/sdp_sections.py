"""Pure rules on the media sections of a session description, read as text.

A browser that cannot decode any codec of an offered section rejects it in its
answer: `m=video 0`, `a=inactive`, and no ICE credentials or DTLS fingerprint there
(Firefox without H.264 does this). Such a section carries nothing; the SFU's WebRTC
stack still wants every section complete, so `complete_rejected` fills it in.
No aiortc objects here, so these are tested without an event loop.
"""

from __future__ import annotations

from dataclasses import dataclass

_TRANSPORT_ATTRS = ("a=ice-ufrag:", "a=ice-pwd:", "a=fingerprint:", "a=setup:")
_CODEC_ATTRS = ("a=rtpmap:", "a=fmtp:", "a=rtcp-fb:")


@dataclass(frozen=True, slots=True)
class Section:
    """One media section: its `m=` line and the lines after it."""

    lines: list[str]

    @property
    def kind(self) -> str:
        return self.lines[0][2:].split(" ", 1)[0]

    @property
    def port(self) -> str:
        parts = self.lines[0].split(" ")
        return parts[1] if len(parts) > 1 else ""

    @property
    def rejected(self) -> bool:
        return self.port == "0"

    @property
    def mid(self) -> str | None:
        return next((line[6:] for line in self.lines if line.startswith("a=mid:")), None)

    def attrs(self, prefixes: tuple[str, ...]) -> list[str]:
        return [line for line in self.lines if line.startswith(prefixes)]


def split(sdp: str) -> tuple[list[str], list[Section]]:
    """The session-level lines, and each media section in order."""
    session: list[str] = []
    sections: list[Section] = []
    for line in sdp.splitlines():
        if not line:
            continue
        if line.startswith("m="):
            sections.append(Section([line]))
        elif sections:
            sections[-1].lines.append(line)
        else:
            session.append(line)
    return session, sections


def join(session: list[str], sections: list[Section]) -> str:
    lines = session + [line for section in sections for line in section.lines]
    return "\r\n".join(lines) + "\r\n"


def layout(sdp: str) -> list[tuple[str, str | None]]:
    """Each media section's (kind, mid), in order."""
    return [(s.kind, s.mid) for s in split(sdp)[1]]


def keeps_layout(previous: list[tuple[str, str | None]],
                 offer: list[tuple[str, str | None]]) -> bool:
    """True when a new offer keeps every earlier section, in its place (it may add
    sections at the end): an offer may never drop, move or retype a section."""
    return offer[:len(previous)] == previous


def complete_rejected(answer: str, offer: str) -> tuple[str, set[str]]:
    """`answer` with each rejected media section made complete, and their mids.

    A rejected section becomes inactive, lists the codecs `offer` gave it, borrows
    the ICE and DTLS lines of the first accepted section (so it asks for no transport
    of its own), keeps RTCP muxed, and joins the BUNDLE group. An answer with no
    rejected section comes back unchanged.
    """
    session, sections = split(answer)
    rejected = [s for s in sections if s.kind in ("audio", "video") and s.rejected]
    if not rejected:
        return answer, set()
    accepted = next((s for s in sections if not s.rejected), None)
    if accepted is None:
        return answer, set()
    # What the session level holds applies to every section already.
    transport = [line for prefix in _TRANSPORT_ATTRS for line in accepted.attrs((prefix,))[:1]]
    offered = {s.mid: s for s in split(offer)[1]}
    mids: set[str] = set()
    completed: list[Section] = []
    for section in sections:
        mid = section.mid
        if section not in rejected or mid is None or mid not in offered:
            completed.append(section)
            continue
        mids.add(mid)
        source = offered[mid]
        m_line = source.lines[0].split(" ")
        lines = [" ".join([f"m={section.kind}", "0", *m_line[2:]]), "c=IN IP4 0.0.0.0",
                 "a=inactive", f"a=mid:{mid}", "a=rtcp:9 IN IP4 0.0.0.0", "a=rtcp-mux"]
        lines += source.attrs(_CODEC_ATTRS)
        lines += transport
        completed.append(Section(lines))
    session = [_bundled(line, mids) for line in session]
    return join(session, completed), mids


def _bundled(line: str, mids: set[str]) -> str:
    """A session `a=group:BUNDLE` line that also names `mids`."""
    if not line.startswith("a=group:BUNDLE"):
        return line
    items = line.split(" ")[1:]
    return " ".join(["a=group:BUNDLE", *items, *sorted(m for m in mids if m not in items)])
