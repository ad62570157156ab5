-- Each audit entry names the network address its actor acted from (the client's own
-- behind a trusted reverse proxy); entries written before, and by the command line, have
-- none.
ALTER TABLE audit_log ADD COLUMN address TEXT NOT NULL DEFAULT '';
