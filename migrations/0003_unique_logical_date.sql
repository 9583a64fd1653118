-- A logical date is unique per DAG, as in Airflow (DagRunAlreadyExists): at most one run of a DAG
-- for each non-null logical date.
--
-- Databases written before this rule may hold two runs of one DAG at one logical date (a manual
-- run triggered at the date of a scheduled one). The oldest keeps its date; each later one moves
-- one microsecond later per run before it, which keeps its day, its hour and its run id, and lets
-- the index be built.

CREATE TEMP TABLE dag_run_logical_date_shift AS
SELECT id, ROW_NUMBER() OVER (PARTITION BY dag_id, logical_date ORDER BY id) - 1 AS shift
FROM dag_run WHERE logical_date IS NOT NULL;

UPDATE dag_run SET logical_date = logical_date + (SELECT shift FROM dag_run_logical_date_shift s WHERE s.id = dag_run.id)
WHERE id IN (SELECT id FROM dag_run_logical_date_shift WHERE shift > 0);

DROP TABLE dag_run_logical_date_shift;

DROP INDEX dag_run_by_logical_date;
CREATE UNIQUE INDEX dag_run_by_logical_date ON dag_run (dag_id, logical_date) WHERE logical_date IS NOT NULL;
