-- How many times a meeting was changed or cancelled after it was scheduled: the
-- SEQUENCE of its invitation, so calendars replace the copy they hold.
ALTER TABLE meetings ADD COLUMN revision INTEGER NOT NULL DEFAULT 0 CHECK (revision >= 0);
