-- Saved groups of invitees ("Lãnh đạo Bộ", "Thủ trưởng các đơn vị"), invited at once.
CREATE TABLE IF NOT EXISTS invitee_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS invitee_group_members (
    group_id INTEGER NOT NULL REFERENCES invitee_groups (id) ON DELETE CASCADE,
    username TEXT NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (group_id, username)
);
