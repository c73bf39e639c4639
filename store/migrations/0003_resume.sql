-- keyflow run store, schema version 3: what `keyflow resume` needs. A run records each step's digest as
-- its flow wrote it (a JSON object, step id to digest), so that a resume reuses only results of steps that
-- did not change. A step records whether its result was reused from the run's earlier attempt.
ALTER TABLE runs ADD COLUMN definitions TEXT;
ALTER TABLE steps ADD COLUMN reused BIGINT;
