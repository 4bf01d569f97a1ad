-- Facts about the database itself. `master_key_check` is a sealed known text: a start
-- with another master key fails at once instead of at the first delivery.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
