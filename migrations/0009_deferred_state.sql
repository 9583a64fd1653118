-- Task instances may now be 'deferred': a try waiting on remote work (a BigQuery job) without a
-- worker. A mayaflow older than this migration does not know that state and would read such a
-- task as having none; having this version applied makes it refuse the database instead ("made by
-- a newer mayaflow"). Nothing else changes: the state is a text column.
SELECT 1;
