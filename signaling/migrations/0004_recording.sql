-- Recording every meeting: the recorded files, the composition
-- jobs, the minutes and the alerts shown on the meeting record page.

-- The policy itself (meetings.recording_policy) comes with the schedule's migration.

-- One row per recorded track (its segments joined into one file once the meeting is
-- over) and one 'composite' row per meeting for the composed MP4. The id is an
-- unguessable token: file URLs use it, and every request is access-checked.
CREATE TABLE recordings (
    id TEXT PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('track', 'composite')),
    track TEXT NOT NULL,
    media TEXT NOT NULL CHECK (media IN ('audio', 'video', 'both')),
    username TEXT,
    source TEXT,
    path TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('recording', 'processing', 'complete', 'failed', 'deleted')),
    bytes INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
    started_at TEXT NOT NULL,
    ended_at TEXT,
    UNIQUE (meeting_id, track),
    CHECK ((kind = 'composite') = (track = 'composite'))
);

CREATE INDEX recordings_by_meeting ON recordings (meeting_id, started_at);
CREATE INDEX recordings_by_start ON recordings (started_at);

-- Composition jobs: queued, run one at a time at low priority, retried on request.
CREATE TABLE compose_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'complete', 'failed')),
    percent REAL NOT NULL DEFAULT 0 CHECK (percent >= 0 AND percent <= 100),
    remaining_s REAL,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
);

-- At most one job waits per meeting; a meeting whose job is running may queue another.
CREATE UNIQUE INDEX compose_jobs_one_queued ON compose_jobs (meeting_id) WHERE status = 'queued';
CREATE INDEX compose_jobs_by_status ON compose_jobs (status, id);

CREATE TABLE minutes (
    meeting_id TEXT PRIMARY KEY REFERENCES meetings (id) ON DELETE CASCADE,
    body TEXT NOT NULL,
    updated_by TEXT REFERENCES accounts (username),
    updated_at TEXT NOT NULL
);

-- What happened to a meeting's recording, for the record page: started, stopped,
-- refused or stopped for lack of disk space, failed.
CREATE TABLE recording_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    kind TEXT NOT NULL
        CHECK (kind IN ('started', 'stopped', 'refused_low_disk', 'stopped_low_disk', 'failed')),
    detail TEXT NOT NULL DEFAULT ''
);

CREATE INDEX recording_events_by_meeting ON recording_events (meeting_id, id);
