-- A rain's budget, split at its first warm-up into exactly `packets`
-- amounts (redpacket.Split, from the seed kept with the campaign), one row
-- per packet. They are written once, in one statement that inserts
-- nothing unless there are exactly `packets` of them summing to the
-- budget (rain.Split), in the transaction that records the seed; a
-- packet is issued at most once (its number is the key).
ALTER TABLE campaigns ADD COLUMN split_seed bigint;
CREATE TABLE packets (
    campaign_id text   NOT NULL REFERENCES campaigns (id),
    packet      int    NOT NULL CHECK (packet > 0),
    amount      bigint NOT NULL CHECK (amount > 0),
    PRIMARY KEY (campaign_id, packet)
);
