-- What each try's remote work cost (a BigQuery job's bytes and slots), for `mayaflow tasks stats`.
CREATE TABLE task_cost (
    run_pk INTEGER NOT NULL REFERENCES dag_run (id),
    task_id TEXT NOT NULL,
    try_number INTEGER NOT NULL,
    job_id TEXT NOT NULL DEFAULT '',
    bytes_processed INTEGER NOT NULL DEFAULT 0,
    bytes_billed INTEGER NOT NULL DEFAULT 0,
    slot_ms INTEGER NOT NULL DEFAULT 0,
    cache_hit INTEGER NOT NULL DEFAULT 0,
    rows_written INTEGER,              -- NULL: the job writes no rows (a plain query)
    recorded_at INTEGER NOT NULL,      -- microseconds since the epoch, when the try ended
    PRIMARY KEY (run_pk, task_id, try_number)
) WITHOUT ROWID;
CREATE INDEX task_cost_by_time ON task_cost (recorded_at);
