-- Dead letters can be listed by campaign and redriven: the campaign comes
-- from the event's partitionkey (campaign/user), and each redrive is
-- recorded (when last, how often). The event is kept as json, not jsonb:
-- a redrive republishes its data byte for byte, as the event signature
-- (surgesig) covers them, and jsonb reorders keys. Rows stored before
-- this migration were normalised by jsonb already: a redrive of a signed
-- one is refused downstream as forged (400, dead-lettered again).
ALTER TABLE dead_letters
    ALTER COLUMN event TYPE json,
    ADD COLUMN campaign_id   text,
    ADD COLUMN redriven_at   timestamptz,
    ADD COLUMN redrive_count int NOT NULL DEFAULT 0 CHECK (redrive_count >= 0);
UPDATE dead_letters SET campaign_id = NULLIF(split_part(event->>'partitionkey', '/', 1), '');
CREATE INDEX dead_letters_by_campaign ON dead_letters (campaign_id, id);
CREATE INDEX dead_letters_by_time ON dead_letters (received_at, id);
