-- The running scheduler's heartbeat (Airflow's scheduler job's latest_heartbeat): a web server in
-- another process (`mayaflow webserver`) reads it to say in /health whether a scheduler runs.
-- One row: there is one scheduler per database (it holds a lock on the file).

CREATE TABLE scheduler_heartbeat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    hostname TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    latest_heartbeat INTEGER NOT NULL
);

-- What each committed batch of the scheduler changed, for the web UI's live view (the API's event
-- stream): one row per batch, its changes as a JSON array of {k: "r"|"t", r: run pk, t: task id,
-- s: state, n: try number}. Only the newest few thousand rows are kept.
CREATE TABLE state_event (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    changes TEXT NOT NULL
);
