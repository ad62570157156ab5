-- Accounts, the licence seat cap, sessions, meetings and attendance.
-- Times are stored as UTC ISO 8601 text with microseconds, so text order is time order.

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The number of licensed seats; the server writes the configured value at start-up.
INSERT INTO settings (key, value) VALUES ('licence_seats', '150');

CREATE TABLE accounts (
    username TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL
        CHECK (role IN ('admin', 'leader', 'secretary', 'official', 'clerk', 'it')),
    password_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL
);

-- The seat cap is enforced here, inside the writing transaction, so concurrent
-- writers (threads or processes) can never hold more active accounts than seats.
CREATE TRIGGER accounts_seat_cap_insert
BEFORE INSERT ON accounts
WHEN NEW.active = 1
    AND (SELECT COUNT(*) FROM accounts WHERE active = 1)
        >= (SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'licence_seats')
BEGIN
    SELECT RAISE(ABORT, 'licence_exhausted');
END;

CREATE TRIGGER accounts_seat_cap_activate
BEFORE UPDATE OF active ON accounts
WHEN NEW.active = 1 AND OLD.active = 0
    AND (SELECT COUNT(*) FROM accounts WHERE active = 1)
        >= (SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'licence_seats')
BEGIN
    SELECT RAISE(ABORT, 'licence_exhausted');
END;

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen TEXT NOT NULL
);

CREATE INDEX sessions_by_username ON sessions (username);

CREATE TABLE meetings (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    organizer TEXT NOT NULL REFERENCES accounts (username),
    start_at TEXT NOT NULL,
    end_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'scheduled'
        CHECK (state IN ('scheduled', 'live', 'ended', 'cancelled')),
    created_at TEXT NOT NULL,
    CHECK (end_at > start_at)
);

CREATE INDEX meetings_by_organizer ON meetings (organizer, start_at);
CREATE INDEX meetings_by_start ON meetings (start_at);

CREATE TABLE meeting_invitees (
    meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    username TEXT NOT NULL REFERENCES accounts (username),
    position INTEGER NOT NULL,
    PRIMARY KEY (meeting_id, username)
);

CREATE INDEX meeting_invitees_by_username ON meeting_invitees (username);

CREATE TABLE attendance (
    participant_id TEXT PRIMARY KEY,
    meeting_id TEXT NOT NULL REFERENCES meetings (id),
    username TEXT NOT NULL REFERENCES accounts (username),
    joined_at TEXT NOT NULL,
    left_at TEXT
);

CREATE INDEX attendance_by_meeting ON attendance (meeting_id, joined_at);
CREATE INDEX attendance_open ON attendance (participant_id) WHERE left_at IS NULL;
