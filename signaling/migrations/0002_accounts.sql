-- Accounts administration: forced password change, secretaries of leaders, the audit
-- log, API tokens and sign-in throttling.

-- Set when an administrator resets the password (or a one-time password is issued);
-- the account must choose a new password before it can do anything else.
ALTER TABLE accounts ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0
    CHECK (must_change_password IN (0, 1));

CREATE TABLE IF NOT EXISTS secretary_assignments (
    secretary TEXT NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
    leader TEXT NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
    PRIMARY KEY (secretary, leader));

CREATE INDEX IF NOT EXISTS secretary_assignments_by_leader
    ON secretary_assignments (leader, secretary);

-- Every administrative action: who did what to which account, when, and the state
-- before and after (JSON objects, or NULL when there was none).
CREATE TABLE IF NOT EXISTS audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT
);

CREATE INDEX IF NOT EXISTS audit_log_by_target ON audit_log (target, id);

-- API tokens for automation: only the SHA-256 of the secret is stored.
CREATE TABLE IF NOT EXISTS api_tokens (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);

CREATE INDEX IF NOT EXISTS api_tokens_by_username ON api_tokens (username);

-- Failed sign-ins per account name and per source address, within a window.
CREATE TABLE IF NOT EXISTS login_failures (
    scope TEXT NOT NULL CHECK (scope IN ('account', 'address')),
    key TEXT NOT NULL,
    failures INTEGER NOT NULL,
    first_at TEXT NOT NULL,
    locked_until TEXT,
    PRIMARY KEY (scope, key)
);
