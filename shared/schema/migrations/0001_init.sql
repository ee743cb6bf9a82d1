-- Campaigns: the operator's specification, the system of record.
CREATE TABLE campaigns (
    id             text PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('sale', 'rain')),
    per_user_limit int  NOT NULL CHECK (per_user_limit > 0),
    spec           jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE campaign_items (
    campaign_id text   NOT NULL REFERENCES campaigns (id),
    sku         text   NOT NULL,
    stock       int    NOT NULL CHECK (stock > 0),
    price       bigint NOT NULL CHECK (price >= 0),
    PRIMARY KEY (campaign_id, sku)
);

-- Orders: one row per settled receipt token. The guards are unique keys, not
-- counters, so settling never updates a hot row:
--   order_no = campaign:sku:user:seq  (a retry can never mint a second order)
--   token_id unique                   (a token settles once)
--   (campaign_id, user_id, seq) with seq <= per_user_limit, checked on insert
CREATE TABLE orders (
    order_no    text        PRIMARY KEY,
    token_id    text        NOT NULL UNIQUE,
    campaign_id text        NOT NULL REFERENCES campaigns (id),
    sku         text        NOT NULL,
    user_id     text        NOT NULL,
    seq         int         NOT NULL CHECK (seq > 0),
    qty         int         NOT NULL CHECK (qty > 0),
    first_slot  int         NOT NULL CHECK (first_slot > 0),
    amount      bigint      NOT NULL CHECK (amount >= 0),
    reserved_at timestamptz NOT NULL,
    pay_by      timestamptz NOT NULL,
    settled_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, user_id, seq)
);
CREATE INDEX orders_by_user ON orders (user_id, settled_at);
CREATE INDEX orders_by_campaign ON orders (campaign_id, sku);

-- Stock slots: unit n of a SKU can belong to one order only, and n never
-- exceeds the SKU's stock (checked on insert), so at most `stock` units can
-- ever be settled: oversell is impossible in the database too.
CREATE TABLE stock_slots (
    campaign_id text NOT NULL,
    sku         text NOT NULL,
    slot        int  NOT NULL CHECK (slot > 0),
    order_no    text NOT NULL REFERENCES orders (order_no),
    PRIMARY KEY (campaign_id, sku, slot)
);

-- Dead letters: events the broker gave up on, kept for redrive.
CREATE TABLE dead_letters (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    text        NOT NULL,
    event_type  text        NOT NULL,
    source      text        NOT NULL,
    error_code  int,
    error_dest  text,
    event       jsonb       NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, event_id, event_type)
);
