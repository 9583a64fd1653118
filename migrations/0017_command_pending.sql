-- The scheduler reads the pending commands on its loop's thread every 100 ms and whenever the API
-- queues one: `WHERE state = 'pending' ORDER BY id`. Without an index that is a scan of the whole command
-- table, and every trigger, pause or clear from the API or the CLI adds a row that stays, answered,
-- until `mayaflow db clean`: at 10 triggers a minute the table holds 100,000 rows after a week and
-- each read takes 20-30 ms (bench/soak, docs/benchmarks.md "Soak"). A partial index holds only the
-- pending rows, which are few, so the read stays a lookup whatever the table's size.
CREATE INDEX command_pending ON command (id) WHERE state = 'pending';
