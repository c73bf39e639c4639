-- keyflow run store, schema version 5: a firing may re-run steps of an earlier run (`keyflow serve`'s
-- `POST /api/v1/runs/{id}/rerun` and the web UI's "Re-run from this step"). Its run is a new one that
-- reuses the recorded results of run `rerun_from`, except those of the steps in `rerun_steps` (a JSON
-- array of step ids) and of every step that depends on them. Both are NULL on every other firing.
ALTER TABLE firings ADD COLUMN rerun_from TEXT;
ALTER TABLE firings ADD COLUMN rerun_steps TEXT;
