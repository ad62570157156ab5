-- When each invitee was added to a meeting after it was scheduled (NULL: invited when it
-- was scheduled). A meeting's record is seen by those invited before its planned end, so
-- a later change to the list gives no one its record.
ALTER TABLE meeting_invitees ADD COLUMN invited_at TEXT;
