-- The API's users (web/auth): accounts with hashed passwords, their roles, personal API tokens and
-- the UI's sessions. Times are microseconds since the Unix epoch, UTC.
-- - users.username is unique without regard to ASCII case ("Admin" and "admin" are one user), as
--   Airflow's are.
-- - password_hash is web/auth/password_hash.h's self-describing text (pbkdf2-sha256$…); never a
--   password.
-- - api_token.token_hash and web_session.session_hash are SHA-256 digests (hex) of the secret the
--   user holds: the database never holds a usable token or cookie.
-- - credentials_state.version is bumped by every change to a user, a role grant or a token, whoever
--   makes it (the CLI writes here while the daemon runs): a cache of checked passwords is good only
--   while it stays the same.

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    email TEXT NOT NULL DEFAULT '',
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_on INTEGER NOT NULL,
    changed_on INTEGER NOT NULL,
    last_login INTEGER,
    login_count INTEGER NOT NULL DEFAULT 0,
    failed_login_count INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,  -- Viewer | User | Op | Admin
    PRIMARY KEY (user_id, role)
);

CREATE TABLE api_token (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL DEFAULT '',
    prefix TEXT NOT NULL,           -- the token's first characters, shown so its owner knows which it is
    token_hash TEXT NOT NULL UNIQUE,
    created_on INTEGER NOT NULL,
    expires_at INTEGER,             -- NULL: never
    revoked INTEGER NOT NULL DEFAULT 0,
    last_used INTEGER
);
CREATE INDEX api_token_by_user ON api_token (user_id);

CREATE TABLE web_session (
    session_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_on INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX web_session_by_user ON web_session (user_id);

CREATE TABLE credentials_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO credentials_state (id, version) VALUES (1, 0);

-- A login only moves last_login and the counts: it leaves cached checks good.
CREATE TRIGGER users_inserted AFTER INSERT ON users
BEGIN UPDATE credentials_state SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER users_updated AFTER UPDATE OF username, password_hash, active ON users
BEGIN UPDATE credentials_state SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER users_deleted AFTER DELETE ON users
BEGIN UPDATE credentials_state SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER user_roles_inserted AFTER INSERT ON user_roles
BEGIN UPDATE credentials_state SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER user_roles_deleted AFTER DELETE ON user_roles
BEGIN UPDATE credentials_state SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER api_token_inserted AFTER INSERT ON api_token
BEGIN UPDATE credentials_state SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER api_token_revoked AFTER UPDATE OF revoked, expires_at ON api_token
BEGIN UPDATE credentials_state SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER api_token_deleted AFTER DELETE ON api_token
BEGIN UPDATE credentials_state SET version = version + 1 WHERE id = 1; END;
