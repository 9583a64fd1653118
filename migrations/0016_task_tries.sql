-- Every try of every task instance, as Airflow 2.10 keeps them in task_instance_history, for the
-- API's /taskInstances/{task_id}/tries and the web UI's task panel (each try's state, start, end,
-- duration). Triggers on task_instance keep it, so that no writer of task instances can forget
-- it and a try is recorded in the same transaction as the change that started or ended it. The
-- triggers delete, then insert: an INSERT OR REPLACE in a trigger takes the conflict policy of the
-- statement that fired it, and the scheduler's upsert of task_instance would make it abort.
--
-- A try is the task instance's row while it has a try number and a start date and is past being
-- scheduled: queued, running, deferred, up_for_reschedule, then how it ended (success, failed,
-- up_for_retry, skipped, upstream_failed). A cleared task goes back to `none` with its try number
-- and start date kept: its ended try stays as it ended. A try taken back before it started (its
-- try number goes down again) may leave a `queued` row above the task's try number, which the
-- readers leave out and the same try's start overwrites.
CREATE TABLE task_try (
    run_pk INTEGER NOT NULL REFERENCES dag_run (id),
    task_id TEXT NOT NULL,
    try_number INTEGER NOT NULL,
    state TEXT NOT NULL,
    max_tries INTEGER NOT NULL,
    start_date INTEGER,
    end_date INTEGER,
    pid INTEGER,
    PRIMARY KEY (run_pk, task_id, try_number)
) WITHOUT ROWID;

CREATE TRIGGER task_try_on_insert AFTER INSERT ON task_instance
WHEN new.try_number > 0 AND new.start_date IS NOT NULL AND new.state NOT IN ('none', 'scheduled', 'removed')
BEGIN
    DELETE FROM task_try WHERE run_pk = new.run_pk AND task_id = new.task_id AND try_number = new.try_number;
    INSERT INTO task_try (run_pk, task_id, try_number, state, max_tries, start_date, end_date, pid)
    VALUES (new.run_pk, new.task_id, new.try_number, new.state, new.max_tries, new.start_date, new.end_date, new.pid);
END;

CREATE TRIGGER task_try_on_update AFTER UPDATE OF state, try_number, start_date, end_date, pid ON task_instance
WHEN new.try_number > 0 AND new.start_date IS NOT NULL AND new.state NOT IN ('none', 'scheduled', 'removed')
BEGIN
    DELETE FROM task_try WHERE run_pk = new.run_pk AND task_id = new.task_id AND try_number = new.try_number;
    INSERT INTO task_try (run_pk, task_id, try_number, state, max_tries, start_date, end_date, pid)
    VALUES (new.run_pk, new.task_id, new.try_number, new.state, new.max_tries, new.start_date, new.end_date, new.pid);
END;

-- A task instance deleted (its run or DAG deleted, `db clean`) takes its tries with it.
CREATE TRIGGER task_try_on_delete AFTER DELETE ON task_instance
BEGIN
    DELETE FROM task_try WHERE run_pk = old.run_pk AND task_id = old.task_id;
END;

-- The tries of the task instances already stored: their latest try, as far as it is known.
INSERT INTO task_try (run_pk, task_id, try_number, state, max_tries, start_date, end_date, pid)
SELECT run_pk, task_id, try_number, state, max_tries, start_date, end_date, pid
FROM task_instance
WHERE try_number > 0 AND start_date IS NOT NULL AND state NOT IN ('none', 'scheduled', 'removed');
