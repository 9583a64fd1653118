-- DAG runs, their task instances, pools, backfills, and the queue of commands for the scheduler.
-- Times are microseconds since the Unix epoch, UTC.

CREATE TABLE dag_run (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dag_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    run_type TEXT NOT NULL,            -- scheduled | manual | backfill
    state TEXT NOT NULL,               -- queued | running | success | failed
    dag_version INTEGER NOT NULL,
    logical_date INTEGER,
    data_interval_start INTEGER,
    data_interval_end INTEGER,
    run_after INTEGER NOT NULL,
    queued_at INTEGER NOT NULL,
    start_date INTEGER,
    end_date INTEGER,
    conf TEXT NOT NULL DEFAULT '{}',
    backfill_id INTEGER,
    UNIQUE (dag_id, run_id)
);
CREATE INDEX dag_run_by_state ON dag_run (state);
CREATE INDEX dag_run_by_logical_date ON dag_run (dag_id, logical_date);

CREATE TABLE task_instance (
    run_pk INTEGER NOT NULL REFERENCES dag_run (id),
    task_id TEXT NOT NULL,
    state TEXT NOT NULL,
    try_number INTEGER NOT NULL DEFAULT 0,
    max_tries INTEGER NOT NULL DEFAULT 0,
    start_date INTEGER,
    end_date INTEGER,
    next_try_at INTEGER,               -- up_for_retry: when the next try may start
    pid INTEGER,                       -- running: the child's pid (= its process group), for recovery
    start_ticks INTEGER,               -- and its start time, to tell it from a recycled pid
    boot_id TEXT,
    result TEXT,                       -- the task's return value as JSON (XCom return_value)
    message TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (run_pk, task_id)
) WITHOUT ROWID;
CREATE INDEX task_instance_by_state ON task_instance (state);

CREATE TABLE pool (
    name TEXT PRIMARY KEY,
    slots INTEGER NOT NULL,
    description TEXT NOT NULL DEFAULT ''
);
INSERT INTO pool (name, slots, description) VALUES ('default_pool', 128, 'Default pool');

CREATE TABLE backfill (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dag_id TEXT NOT NULL,
    from_date INTEGER NOT NULL,
    to_date INTEGER NOT NULL,
    run_backwards INTEGER NOT NULL DEFAULT 0,
    reprocess_behavior TEXT NOT NULL DEFAULT 'none',
    max_active_runs INTEGER NOT NULL DEFAULT 10,
    dag_run_conf TEXT NOT NULL DEFAULT '{}',
    is_paused INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    completed_at INTEGER
);

-- Commands from the CLI to a running scheduler (it owns all writes to run state).
CREATE TABLE command (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',  -- pending | done | failed
    result TEXT
);
