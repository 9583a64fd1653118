-- The API's run lists in their usual order — newest logical date first (`order_by=-execution_date`),
-- filtered by state, for one DAG or for all (`~`) — read from an index already in that order, so
-- the first page reads 100 rows instead of sorting every run in the state (bench/api.py, 100,000
-- runs: docs/benchmarks.md). An index's entries end with the row's id, which breaks ties the way
-- the lists do (`logical_date DESC, id DESC`). The (state) and (dag_id, state) indexes are the
-- first columns of the new ones, which serve their queries as well: they go, so the scheduler's
-- writes keep two state indexes to update, not four.
DROP INDEX dag_run_by_state;
CREATE INDEX dag_run_by_state ON dag_run (state, logical_date);
DROP INDEX dag_run_by_dag_state;
CREATE INDEX dag_run_by_dag_state ON dag_run (dag_id, state, logical_date);
-- Every run newest first whatever its state (`~` without a state filter).
CREATE INDEX dag_run_by_logical_date_any_dag ON dag_run (logical_date);
