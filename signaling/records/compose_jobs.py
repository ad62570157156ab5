"""The composition queue: runs queued jobs one at a time, each in a low-priority child
process (`python -m signaling.records.compose`), and keeps their progress in the store."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from pathlib import Path

from signaling.records.compose import NICE
from signaling.records.recordings import COMPOSITE, ComposeJob, RecordingService

logger = logging.getLogger(__name__)

POLL_S = 2.0
COMPOSITE_NAME = "composite.mp4"
SPEC_NAME = "compose-job.json"
ERROR_TAIL = 2000


class ComposeQueue:
    def __init__(self, recordings: RecordingService, layout: str,
                 poll_s: float = POLL_S) -> None:
        self.recordings = recordings
        self.layout = layout
        self.poll_s = poll_s
        self._wake = asyncio.Event()
        self._process: asyncio.subprocess.Process | None = None

    def wake(self) -> None:
        """Look at the queue now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Forever: take the oldest queued job and run it; cancel to stop."""
        while True:
            job = self.recordings.claim_job()
            if job is None:
                self._wake.clear()
                try:
                    # Not asyncio.wait_for: on Python 3.11 it drops a cancellation that
                    # lands in the loop turn a wake-up does, and the queue never stops.
                    async with asyncio.timeout(self.poll_s):
                        await self._wake.wait()
                except TimeoutError:
                    pass
                continue
            await self.run_job(job)

    def spec(self, job: ComposeJob) -> dict[str, object]:
        directory = self.recordings.meeting_directory(job.meeting_id)
        tracks = [{"track": r.track, "username": r.username or "", "source": r.source or ""}
                  for r in self.recordings.list(job.meeting_id)
                  if r.kind == "track" and r.status in ("processing", "complete", "failed")]
        return {"directory": str(directory), "output": str(directory / COMPOSITE_NAME),
                "layout": self.layout, "tracks": tracks}

    async def run_job(self, job: ComposeJob) -> bool:
        """Run one claimed job to its end; True when it completed."""
        spec = self.spec(job)
        directory = Path(str(spec["directory"]))
        if not spec["tracks"]:
            self.recordings.job_finished(job.id, "nothing was recorded in this meeting")
            return False
        spec_path = directory / SPEC_NAME
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        logger.info("composition job %d: meeting %s, %d tracks", job.id, job.meeting_id,
                    len(spec["tracks"]))  # type: ignore[arg-type]
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "signaling.records.compose", str(spec_path),
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        except OSError as exc:
            self.recordings.job_finished(job.id, f"cannot start the composer: {exc}")
            return False
        self._process = process
        result: dict[str, object] | None = None
        stderr_task = asyncio.create_task(self._read_all(process.stderr))
        try:
            assert process.stdout is not None
            async for line in process.stdout:
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if "done" in message:
                    result = message["done"]
                elif "percent" in message:
                    self.recordings.job_progress(job.id, float(message["percent"]),
                                                 message.get("remaining_s"))
            await process.wait()
        except asyncio.CancelledError:
            if process.returncode is None:
                process.kill()
                await process.wait()
            stderr_task.cancel()
            raise
        finally:
            self._process = None
        errors = await stderr_task
        if process.returncode != 0 or result is None:
            detail = (errors.strip()[-ERROR_TAIL:]
                      or f"the composer exited with {process.returncode}")
            self.recordings.job_finished(job.id, detail)
            return False
        self._record_files(job, result)
        self.recordings.job_finished(job.id)
        spec_path.unlink(missing_ok=True)
        return True

    @staticmethod
    async def _read_all(stream: asyncio.StreamReader | None) -> str:
        if stream is None:
            return ""
        data = await stream.read()
        return data.decode("utf-8", "replace")

    def _record_files(self, job: ComposeJob, result: dict[str, object]) -> None:
        tracks = result.get("tracks", {})
        assert isinstance(tracks, dict)
        for track, info in tracks.items():
            self.recordings.file_ready(job.meeting_id, track, Path(info["path"]),
                                       int(info["bytes"]), media=info["kind"])
        composite = result.get("composite")
        assert isinstance(composite, dict)
        self.recordings.file_ready(job.meeting_id, COMPOSITE, Path(composite["path"]),
                                   int(composite["bytes"]))

    async def close(self) -> None:
        process = self._process
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()


__all__ = ["ComposeQueue", "NICE"]
