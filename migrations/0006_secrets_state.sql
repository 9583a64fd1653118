-- The stored secrets as a whole (engine/connections/secrets_repository.h):
-- - sealing_key_id: the key every value was last re-sealed with by `rotate-secret-key` (or the first
--   key that sealed one). A write whose keyring does not know it began before a rotation and would
--   seal with a key that is gone: it is refused, and the command reads the key again.
-- - version: bumped by every change to a connection or a variable, whoever makes it, so that a
--   process re-reads them (to register them with its masker) only when they have changed.

CREATE TABLE secrets_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    sealing_key_id TEXT,
    version INTEGER NOT NULL
);

INSERT INTO secrets_state (id, sealing_key_id, version) VALUES (1, NULL, 0);

CREATE TRIGGER connection_inserted AFTER INSERT ON connection
BEGIN UPDATE secrets_state SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER connection_updated AFTER UPDATE ON connection
BEGIN UPDATE secrets_state SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER connection_deleted AFTER DELETE ON connection
BEGIN UPDATE secrets_state SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER variable_inserted AFTER INSERT ON variable
BEGIN UPDATE secrets_state SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER variable_updated AFTER UPDATE ON variable
BEGIN UPDATE secrets_state SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER variable_deleted AFTER DELETE ON variable
BEGIN UPDATE secrets_state SET version = version + 1 WHERE id = 1; END;
