-- Scheduling: meeting details, recurring series, room bookings, room device accounts,
-- secretary assignments and private calendar feeds.
-- Times are UTC ISO 8601 text with microseconds (store.to_db), so text order is time order.

-- ---------------------------------------------------------------- accounts

-- A room's own endpoint signs in with an account of kind 'room'; it holds no licence seat.
ALTER TABLE accounts ADD COLUMN kind TEXT NOT NULL DEFAULT 'staff'
    CHECK (kind IN ('staff', 'room'));

DROP TRIGGER accounts_seat_cap_insert;
DROP TRIGGER accounts_seat_cap_activate;

-- Only active staff accounts hold a licence seat.
CREATE TRIGGER accounts_seat_cap_insert
BEFORE INSERT ON accounts
WHEN NEW.active = 1 AND NEW.kind = 'staff'
    AND (SELECT COUNT(*) FROM accounts WHERE active = 1 AND kind = 'staff')
        >= (SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'licence_seats')
BEGIN
    SELECT RAISE(ABORT, 'licence_exhausted');
END;

CREATE TRIGGER accounts_seat_cap_activate
BEFORE UPDATE OF active, kind ON accounts
WHEN NEW.active = 1 AND NEW.kind = 'staff' AND NOT (OLD.active = 1 AND OLD.kind = 'staff')
    AND (SELECT COUNT(*) FROM accounts WHERE active = 1 AND kind = 'staff')
        >= (SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'licence_seats')
BEGIN
    SELECT RAISE(ABORT, 'licence_exhausted');
END;

CREATE TABLE IF NOT EXISTS secretary_assignments (
    secretary TEXT NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
    leader TEXT NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
    PRIMARY KEY (secretary, leader));

-- The device account of each dedicated room (one per room).
CREATE TABLE room_devices (
    room_id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE REFERENCES accounts (username) ON DELETE CASCADE
);

-- ---------------------------------------------------------------- meetings

-- A recurring meeting: its rule and the details every occurrence starts from.
-- Each occurrence is a row of meetings with series_id set.
CREATE TABLE meeting_series (
    id TEXT PRIMARY KEY,
    rrule TEXT NOT NULL,
    -- RFC 5545 rule without DTSTART, e.g. FREQ=WEEKLY;BYDAY=MO;COUNT=10
    first_start_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);

ALTER TABLE meetings ADD COLUMN agenda TEXT NOT NULL DEFAULT '';
ALTER TABLE meetings ADD COLUMN on_behalf_of TEXT REFERENCES accounts (username);
ALTER TABLE meetings ADD COLUMN recording_policy TEXT NOT NULL DEFAULT 'automatic'
    CHECK (recording_policy IN ('automatic', 'on_demand', 'off'));
ALTER TABLE meetings ADD COLUMN series_id TEXT REFERENCES meeting_series (id);
-- The start this occurrence has in its series' rule (its RECURRENCE-ID), even when moved.
ALTER TABLE meetings ADD COLUMN occurrence_start_at TEXT;

CREATE INDEX meetings_by_series ON meetings (series_id, occurrence_start_at);

-- ---------------------------------------------------------------- room bookings

CREATE TABLE room_bookings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id TEXT NOT NULL,
    title TEXT NOT NULL,
    start_at TEXT NOT NULL
        CHECK (start_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*+00:00'),
    end_at TEXT NOT NULL
        CHECK (end_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T*+00:00'),
    meeting_id TEXT REFERENCES meetings (id) ON DELETE SET NULL,
    booked_by TEXT NOT NULL REFERENCES accounts (username),
    -- Bookings made together as one recurring booking share a group id.
    group_id TEXT,
    state TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'cancelled')),
    created_at TEXT NOT NULL,
    CHECK (length(start_at) = 32 AND length(end_at) = 32),
    CHECK (end_at > start_at)
);

CREATE INDEX room_bookings_by_room ON room_bookings (room_id, start_at);
CREATE INDEX room_bookings_by_meeting ON room_bookings (meeting_id);

-- No double booking, ever: two active bookings of one room never overlap.
-- Intervals are half-open [start, end), so back-to-back bookings are allowed.
-- Writers use BEGIN IMMEDIATE, so the check and the write are one step for every process.
CREATE TRIGGER room_bookings_no_overlap_insert
BEFORE INSERT ON room_bookings
WHEN NEW.state = 'active' AND EXISTS (
    SELECT 1 FROM room_bookings AS b
    WHERE b.room_id = NEW.room_id AND b.state = 'active'
        AND b.start_at < NEW.end_at AND NEW.start_at < b.end_at)
BEGIN
    SELECT RAISE(ABORT, 'room_booking_overlap');
END;

CREATE TRIGGER room_bookings_no_overlap_update
BEFORE UPDATE OF room_id, start_at, end_at, state ON room_bookings
WHEN NEW.state = 'active' AND EXISTS (
    SELECT 1 FROM room_bookings AS b
    WHERE b.room_id = NEW.room_id AND b.state = 'active' AND b.id <> NEW.id
        AND b.start_at < NEW.end_at AND NEW.start_at < b.end_at)
BEGIN
    SELECT RAISE(ABORT, 'room_booking_overlap');
END;

-- ---------------------------------------------------------------- calendar feeds

-- One private feed URL per account; only the token's SHA-256 is kept.
CREATE TABLE calendar_feeds (
    username TEXT PRIMARY KEY REFERENCES accounts (username) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);
