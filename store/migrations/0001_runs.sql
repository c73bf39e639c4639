-- keyflow run store, schema version 1: runs, the steps' final results, every attempt, every intent.
-- Portable SQL: the same text runs on SQLite and PostgreSQL. JSON values are stored as TEXT, times as
-- RFC 3339 TEXT (as reported) plus milliseconds since the Unix epoch (BIGINT) where the store sorts or
-- filters on them.
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    root_run_id TEXT NOT NULL,
    parent_run_id TEXT,
    parent_step TEXT,
    parent_item BIGINT,
    flow TEXT NOT NULL,
    source TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    started_ms BIGINT NOT NULL,
    ended_at TEXT,
    duration_ms BIGINT,
    reason TEXT,
    outputs TEXT,
    step_order TEXT
);
CREATE INDEX runs_root ON runs (root_run_id);
CREATE TABLE steps (
    run_id TEXT NOT NULL,
    step TEXT NOT NULL,
    block TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    output TEXT,
    error TEXT,
    reason TEXT,
    items BIGINT,
    template_runs BIGINT,
    ended_ms BIGINT NOT NULL,
    PRIMARY KEY (run_id, step)
);
CREATE TABLE attempts (
    run_id TEXT NOT NULL,
    step TEXT NOT NULL,
    item BIGINT,
    attempt BIGINT NOT NULL,
    started_at TEXT NOT NULL,
    duration_ms BIGINT NOT NULL,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT
);
CREATE INDEX attempts_run ON attempts (run_id, step);
CREATE TABLE intents (
    run_id TEXT NOT NULL,
    step TEXT NOT NULL,
    item BIGINT,
    attempt BIGINT NOT NULL,
    block TEXT NOT NULL,
    effect TEXT NOT NULL,
    started_at TEXT NOT NULL,
    input TEXT NOT NULL
);
CREATE INDEX intents_run ON intents (run_id, step);
