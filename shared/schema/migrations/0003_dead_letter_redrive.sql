-- Dead letters can be listed by campaign and redriven: the campaign comes
-- from the event's partitionkey (campaign/user), and each redrive is
-- recorded (when last, how often).
ALTER TABLE dead_letters
    ADD COLUMN campaign_id   text,
    ADD COLUMN redriven_at   timestamptz,
    ADD COLUMN redrive_count int NOT NULL DEFAULT 0 CHECK (redrive_count >= 0);
UPDATE dead_letters SET campaign_id = NULLIF(split_part(event->>'partitionkey', '/', 1), '');
CREATE INDEX dead_letters_by_campaign ON dead_letters (campaign_id, id);
CREATE INDEX dead_letters_by_time ON dead_letters (received_at, id);
