-- Notes on DAG runs and task instances (Airflow's dag_run_note and task_instance_note), written by
-- the API directly: a note is not state, so it does not go through the scheduler. updated_at is
-- when a run's row last changed (Airflow's DagRun.updated_at), for the API's updated_at filters;
-- runs written before this migration take their latest known time.
ALTER TABLE dag_run ADD COLUMN note TEXT;
ALTER TABLE dag_run ADD COLUMN updated_at INTEGER;
ALTER TABLE task_instance ADD COLUMN note TEXT;
UPDATE dag_run SET updated_at = COALESCE(end_date, start_date, queued_at);

-- The API's filters and orders over many runs and task instances (GET …/dagRuns and
-- …/taskInstances with `~`): each filter that can narrow 100,000 runs has an index to start from.
CREATE INDEX dag_run_by_dag_state ON dag_run (dag_id, state);
CREATE INDEX dag_run_by_start_date ON dag_run (start_date);
CREATE INDEX dag_run_by_end_date ON dag_run (end_date);
CREATE INDEX dag_run_by_updated_at ON dag_run (updated_at);
CREATE INDEX task_instance_by_task ON task_instance (task_id);
