-- Co-hosts the organizer names among the invitees when scheduling: they chair the
-- meeting with the organizer (signaling/accounts/hosts.py).
ALTER TABLE meeting_invitees ADD COLUMN cohost INTEGER NOT NULL DEFAULT 0
    CHECK (cohost IN (0, 1));
