"""Retention: recordings older than `[recording] retention_days` are deleted daily."""

from __future__ import annotations

import asyncio
import logging
import shutil
from datetime import datetime, timedelta

from signaling.records.recordings import Recording, RecordingService
from signaling.store import utcnow

logger = logging.getLogger(__name__)

DAY_S = 24 * 3600.0


class RetentionJob:
    def __init__(self, recordings: RecordingService, days: int) -> None:
        self.recordings = recordings
        self.days = days

    def purge(self, now: datetime | None = None) -> list[Recording]:
        """Delete every recording started more than `days` ago; 0 days keeps all."""
        if self.days <= 0:
            return []
        cutoff = (now or utcnow()) - timedelta(days=self.days)
        deleted = self.recordings.older_than(cutoff)
        meetings = set()
        for recording in deleted:
            try:
                recording.path.unlink(missing_ok=True)
            except OSError as exc:
                logger.error("retention: cannot delete %s: %s", recording.path, exc)
                continue
            self.recordings.mark_deleted(recording.id)
            meetings.add(recording.meeting_id)
            logger.info("retention: deleted %s recording %s of meeting %s, started %s (%s, "
                        "%d bytes)", recording.kind, recording.track, recording.meeting_id,
                        recording.started_at.isoformat(timespec="seconds"), recording.path,
                        recording.bytes)
        for meeting_id in meetings:
            if all(r.status == "deleted" for r in self.recordings.list(meeting_id)):
                directory = self.recordings.meeting_directory(meeting_id)
                shutil.rmtree(directory, ignore_errors=True)
                logger.info("retention: removed the recording directory of meeting %s",
                            meeting_id)
        return deleted

    async def run_daily(self) -> None:
        """Purge now, then once a day; cancel to stop."""
        while True:
            try:
                await asyncio.to_thread(self.purge)
            except Exception:
                logger.exception("retention: the daily purge failed")
            await asyncio.sleep(DAY_S)
