-- Degrade switches (seed 001, 降级开关): PostgreSQL is their record, Redis
-- carries the live copy every instance watches (package switches). A
-- switch is named, and scoped to nothing (''), a campaign, or a campaign's
-- SKU; its value is JSON (true/false, or a fraction). Every change takes
-- the next version under one advisory lock, so versions only grow and the
-- Redis copy can refuse an older state; switch_changes keeps each change.
CREATE TABLE switches (
    name        text        NOT NULL,
    campaign_id text        NOT NULL DEFAULT '',
    sku         text        NOT NULL DEFAULT '',
    value       jsonb       NOT NULL,
    version     bigint      NOT NULL CHECK (version > 0),
    changed_by  text        NOT NULL DEFAULT '',
    reason      text        NOT NULL DEFAULT '',
    changed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, campaign_id, sku)
);

CREATE TABLE switch_changes (
    version     bigint      PRIMARY KEY,
    name        text        NOT NULL,
    campaign_id text        NOT NULL DEFAULT '',
    sku         text        NOT NULL DEFAULT '',
    value       jsonb       NOT NULL,
    changed_by  text        NOT NULL DEFAULT '',
    reason      text        NOT NULL DEFAULT '',
    changed_at  timestamptz NOT NULL DEFAULT now()
);
