-- Sensors in reschedule mode (Airflow's task_reschedule table, kept on the task instance): between
-- two pokes a try waits in up_for_reschedule without a slot, its next poke at next_try_at. Its
-- timeout counts from its first poke, which must survive a restart of the daemon; its pokes are
-- counted for the exponential backoff. Both are cleared when the try ends.
ALTER TABLE task_instance ADD COLUMN first_poke_at INTEGER;
ALTER TABLE task_instance ADD COLUMN pokes INTEGER NOT NULL DEFAULT 0;
