-- When a campaign was first warmed up: from then on its Redis state is a
-- copy of PostgreSQL's, and a warm-up that finds it missing must not load
-- the configured stock again (that would sell again what was sold); the
-- campaign fails closed until reconcile rebuilds it.
ALTER TABLE campaigns ADD COLUMN warmed_at timestamptz;
