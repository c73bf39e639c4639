-- keyflow run store, schema version 4: what `keyflow serve` needs. One row per trigger a daemon has seen
-- (the latest fire time handled, failed runs in a row, whether it is paused), one row per firing (a fire
-- time of a trigger, or a run asked for through the API) with the run it starts, who runs it and until
-- when (a lease with a fencing token), and one row per daemon process. The unique index is what makes a
-- fire time of a trigger fire once, whichever daemon sees it first.
CREATE TABLE triggers (
    flow TEXT NOT NULL,
    trigger_id TEXT NOT NULL,
    schedule TEXT NOT NULL,
    last_fire_ms BIGINT NOT NULL,
    failures BIGINT NOT NULL,
    paused TEXT,
    PRIMARY KEY (flow, trigger_id)
);
CREATE TABLE firings (
    id TEXT PRIMARY KEY,
    flow TEXT NOT NULL,
    trigger_id TEXT,
    fire_ms BIGINT NOT NULL,
    missed BIGINT NOT NULL,
    params TEXT NOT NULL,
    allow_destructive BIGINT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    run_id TEXT NOT NULL,
    resume BIGINT NOT NULL,
    worker TEXT,
    lease_ms BIGINT,
    fence BIGINT NOT NULL,
    cancel BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    started_ms BIGINT,
    ended_ms BIGINT
);
-- API firings have no trigger: NULLs are distinct, so they never collide.
CREATE UNIQUE INDEX firings_once ON firings (flow, trigger_id, fire_ms);
CREATE INDEX firings_status ON firings (status, fire_ms);
CREATE INDEX firings_run ON firings (run_id);
CREATE TABLE workers (
    id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid BIGINT NOT NULL,
    started_ms BIGINT NOT NULL,
    beat_ms BIGINT NOT NULL,
    listen TEXT
);
-- On SQLite one daemon holds the store: the single row says which, until its beat goes stale.
CREATE TABLE store_holder (
    slot BIGINT PRIMARY KEY,
    worker TEXT NOT NULL,
    beat_ms BIGINT NOT NULL
);
