-- Revisions of meetings, and who chairs them.

-- How many times a meeting was changed or cancelled after it was scheduled: the
-- SEQUENCE of its invitation, so calendars replace the copy they hold.
ALTER TABLE meetings ADD COLUMN revision INTEGER NOT NULL DEFAULT 0 CHECK (revision >= 0);

-- The person who chairs the meeting, chosen when it is scheduled; NULL: the leader it
-- is held for, else its organizer. Whoever typed the meeting in is its organizer.
ALTER TABLE meetings ADD COLUMN chair TEXT REFERENCES accounts (username);
