-- Payment and release (预扣库存 with a payment window).
--
-- An order is reserved (settled, not paid yet), paid, or released (its
-- payment window passed). A released row stays, so its order number and
-- token id stay taken: a redelivered token of it is a duplicate.
ALTER TABLE orders
    ADD COLUMN state       text NOT NULL DEFAULT 'reserved' CHECK (state IN ('reserved', 'paid', 'released')),
    ADD COLUMN paid_at     timestamptz,
    ADD COLUMN released_at timestamptz,
    -- the stock slots the order holds when they are not
    -- first_slot..first_slot+qty-1 (slots given back and sold again)
    ADD COLUMN slots       int[] CHECK (cardinality(slots) = qty);

-- The per-user limit counts units: unit n of a user in a campaign can
-- belong to one live order only, and n never exceeds the campaign's
-- per_user_limit (checked on insert), so a user holds at most `limit`
-- units however many times they win, are released and win again. The
-- order number's seq only numbers wins. Stock slots and user units are
-- those of live orders (reserved, paid): a release deletes its rows in the
-- transaction that marks it released.
CREATE TABLE user_units (
    campaign_id text NOT NULL,
    user_id     text NOT NULL,
    unit        int  NOT NULL CHECK (unit > 0),
    order_no    text NOT NULL REFERENCES orders (order_no),
    PRIMARY KEY (campaign_id, user_id, unit)
);
CREATE INDEX user_units_by_order ON user_units (order_no);
CREATE INDEX stock_slots_by_order ON stock_slots (order_no);

-- Orders settled before this migration hold units numbered in seq order.
INSERT INTO user_units (campaign_id, user_id, unit, order_no)
SELECT o.campaign_id, o.user_id, u.unit, o.order_no
FROM (SELECT campaign_id, user_id, order_no, qty,
             sum(qty) OVER (PARTITION BY campaign_id, user_id ORDER BY seq) - qty AS before
      FROM orders) o,
     generate_series(o.before + 1, o.before + o.qty) AS u(unit);
