-- Connections and variables, with Airflow's names. The password, the extra and a variable's value
-- are stored sealed (AES-256-GCM, "mf1:<key id>:<base64>", see engine/connections/secret_cipher.h):
-- the database never holds them in clear.

CREATE TABLE connection (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conn_id TEXT NOT NULL UNIQUE,
    conn_type TEXT NOT NULL,
    description TEXT,
    host TEXT,
    schema TEXT,
    login TEXT,
    password TEXT,  -- sealed
    port INTEGER,
    extra TEXT      -- sealed
);

CREATE TABLE variable (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    val TEXT NOT NULL,  -- sealed
    description TEXT
);
