"""A meeting's chat as the record exports it: plain text, and CSV safe against
spreadsheet formulas (the attendance export's `safe_cell`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import tzinfo

from signaling.live.chat import ChatMessage
from signaling.records.meeting_record import safe_cell

GUEST_MARK = "guest"
TO_HOSTS_MARK = "to the hosts"


def _who(message: ChatMessage) -> str:
    return f"{message.author_name} ({GUEST_MARK})" if message.author_guest \
        else f"{message.author_name} ({message.author_username})"


def chat_text(messages: Iterable[ChatMessage], tz: tzinfo) -> str:
    """One message per paragraph: `[time] name (username): text`."""
    out = []
    for message in messages:
        when = message.sent_at.astimezone(tz).isoformat(timespec="seconds")
        private = f" [{TO_HOSTS_MARK}]" if message.recipients == "hosts" else ""
        out.append(f"[{when}] {_who(message)}{private}: {message.body}")
    return "\n\n".join(out) + ("\n" if out else "")


def chat_csv(messages: Iterable[ChatMessage], tz: tzinfo) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["sent_at", "author", "author_name", "guest", "recipients", "text"])
    for message in messages:
        writer.writerow([
            message.sent_at.astimezone(tz).isoformat(timespec="seconds"),
            "" if message.author_guest else message.author_username,
            safe_cell(message.author_name), "yes" if message.author_guest else "no",
            message.recipients, safe_cell(message.body)])
    return out.getvalue()
