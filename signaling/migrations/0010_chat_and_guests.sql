-- Chat kept with the meeting record, guest links for people without an account, the
-- guests who came by them, and the guests' attendance.

-- Every chat message as it was sent: to everyone in the meeting, or to its hosts only.
CREATE TABLE chat_messages (
    id INTEGER PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    -- The author's account, or guest:<id> for a guest (author_name is the name they gave).
    author_username TEXT NOT NULL,
    author_name TEXT NOT NULL,
    author_guest INTEGER NOT NULL DEFAULT 0 CHECK (author_guest IN (0, 1)),
    recipients TEXT NOT NULL CHECK (recipients IN ('everyone', 'hosts')),
    body TEXT NOT NULL,
    sent_at TEXT NOT NULL
);

CREATE INDEX chat_messages_by_meeting ON chat_messages (meeting_id, id);
CREATE INDEX chat_messages_by_time ON chat_messages (sent_at);

-- A link that lets outside guests ask to enter one meeting; only the token's SHA-256 is kept.
CREATE TABLE guest_links (
    id TEXT PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE INDEX guest_links_by_meeting ON guest_links (meeting_id);

-- A guest who gave a name on a link's page; their browser holds the pass (hashed here).
CREATE TABLE guests (
    id TEXT PRIMARY KEY,
    link_id TEXT NOT NULL REFERENCES guest_links (id) ON DELETE CASCADE,
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    unit TEXT NOT NULL DEFAULT '',
    pass_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- A guest's stays in the meeting (staff stays are in attendance, which names an account).
CREATE TABLE guest_attendance (
    participant_id TEXT PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    guest_id TEXT NOT NULL REFERENCES guests (id) ON DELETE CASCADE,
    joined_at TEXT NOT NULL,
    left_at TEXT
);

CREATE INDEX guest_attendance_by_meeting ON guest_attendance (meeting_id, joined_at);
