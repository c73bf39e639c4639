-- keyflow run store, schema version 2: who runs a run, and whether it is still alive. A top-level run
-- records its owner (host, process id) and a heartbeat the owning process renews while the run is open,
-- so that a run whose process died reads as `interrupted` instead of `running` forever. Runs written
-- before this version have no owner: they read as they were stored. The indexes serve `runs list`
-- (newest first, top-level runs, by flow or status) over large histories.
ALTER TABLE runs ADD COLUMN owner_host TEXT;
ALTER TABLE runs ADD COLUMN owner_pid BIGINT;
ALTER TABLE runs ADD COLUMN heartbeat_ms BIGINT;
ALTER TABLE runs ADD COLUMN heartbeat_every_ms BIGINT;
-- Partial: PostgreSQL does not read `parent_run_id IS NULL` as fixing the first column of a composite
-- index, so (parent_run_id, started_ms) would not give the newest top-level runs in order.
CREATE INDEX runs_top_started ON runs (started_ms, id) WHERE parent_run_id IS NULL;
CREATE INDEX runs_flow_started ON runs (flow, started_ms);
CREATE INDEX runs_status_started ON runs (status, started_ms);
