-- Warnings about a DAG that loads (Airflow's dag_warning table): an expression Airflow and classic
-- crontab read differently, a template name Airflow 3 removed. Replaced at each parse of its file.

CREATE TABLE dag_warning (
    dag_id TEXT NOT NULL,
    warning_type TEXT NOT NULL,   -- Airflow's type names where one fits; 'dag_file' for load-time warnings
    message TEXT NOT NULL,        -- file:line:column: field: what, as `dags validate` prints it
    timestamp INTEGER NOT NULL
);
CREATE INDEX dag_warning_by_dag ON dag_warning (dag_id);
