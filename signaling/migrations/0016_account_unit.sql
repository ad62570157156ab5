-- The unit an account belongs to ("Vụ Tổ chức cán bộ"), shown and searched in the
-- directory; empty when none is set.
ALTER TABLE accounts ADD COLUMN unit TEXT NOT NULL DEFAULT '';
