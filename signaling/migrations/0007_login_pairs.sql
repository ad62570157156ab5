-- Sign-in failures are also counted per account name and source address ('pair'), so
-- that guesses from one machine lock that machine out of the account, not its owner.
CREATE TABLE login_failures_new (
    scope TEXT NOT NULL CHECK (scope IN ('pair', 'account', 'address')),
    key TEXT NOT NULL,
    failures INTEGER NOT NULL,
    first_at TEXT NOT NULL,
    locked_until TEXT,
    PRIMARY KEY (scope, key)
);
INSERT INTO login_failures_new (scope, key, failures, first_at, locked_until)
    SELECT scope, key, failures, first_at, locked_until FROM login_failures;
DROP TABLE login_failures;
ALTER TABLE login_failures_new RENAME TO login_failures;
