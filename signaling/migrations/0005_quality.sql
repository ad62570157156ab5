-- Media quality history, kept with the meeting record: the figures of every participant's
-- streams while the meeting is live (one row per stream per sample), merged into
-- buckets once the meeting ends, and the alerts raised for streams that stayed Poor.

CREATE TABLE quality_samples (
    id INTEGER PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    participant_id TEXT NOT NULL,
    username TEXT NOT NULL,
    -- 'up:camera', 'up:microphone', 'up:screen' (what the participant sends) or
    -- 'down:audio', 'down:video' (what the participant receives).
    stream TEXT NOT NULL CHECK (stream IN ('up:camera', 'up:microphone', 'up:screen',
                                           'down:audio', 'down:video')),
    kind TEXT NOT NULL CHECK (kind IN ('audio', 'video')),
    at TEXT NOT NULL,
    seconds REAL NOT NULL CHECK (seconds > 0),
    state TEXT NOT NULL CHECK (state IN ('good', 'warning', 'poor')),
    bitrate_kbps REAL,
    loss_percent REAL,
    jitter_ms REAL,
    rtt_ms REAL,
    mos REAL,
    fps REAL,
    -- 1 once merged into a bucket after the meeting ended.
    merged INTEGER NOT NULL DEFAULT 0 CHECK (merged IN (0, 1))
);

CREATE INDEX quality_samples_by_meeting ON quality_samples (meeting_id, merged, at);
CREATE INDEX quality_samples_by_time ON quality_samples (at);

CREATE TABLE quality_alerts (
    id INTEGER PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    participant_id TEXT NOT NULL,
    username TEXT NOT NULL,
    stream TEXT NOT NULL,
    reasons TEXT NOT NULL,
    poor_since TEXT NOT NULL,
    raised_at TEXT NOT NULL,
    cleared_at TEXT,
    CHECK (raised_at >= poor_since),
    CHECK (cleared_at IS NULL OR cleared_at >= raised_at)
);

CREATE INDEX quality_alerts_by_meeting ON quality_alerts (meeting_id, raised_at);
CREATE INDEX quality_alerts_by_time ON quality_alerts (raised_at);
