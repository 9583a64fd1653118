-- DAGs as the DAG folder last showed them, every version of each, and the files that failed to load.
-- Times are microseconds since the Unix epoch, UTC.

CREATE TABLE dag (
    dag_id TEXT PRIMARY KEY,
    fileloc TEXT NOT NULL,
    is_paused INTEGER NOT NULL DEFAULT 0,
    is_active INTEGER NOT NULL DEFAULT 1,
    description TEXT NOT NULL DEFAULT '',
    owners TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    schedule TEXT,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    latest_version INTEGER NOT NULL,
    last_parsed_time INTEGER NOT NULL
);

CREATE TABLE dag_version (
    dag_id TEXT NOT NULL REFERENCES dag (dag_id),
    version_number INTEGER NOT NULL,
    source_hash TEXT NOT NULL,
    serialized TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (dag_id, version_number)
);

CREATE TABLE import_error (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    filename TEXT NOT NULL UNIQUE,
    timestamp INTEGER NOT NULL,
    stack_trace TEXT NOT NULL
);
