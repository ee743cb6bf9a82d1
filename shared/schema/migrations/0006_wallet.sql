-- The wallet: a user's balance is the amounts of their settled rain
-- packets (orders of rain campaigns, never released) less what they
-- withdrew. Settle only inserts orders, so crediting a win updates no row;
-- a withdrawal inserts one row here, in a transaction that holds the
-- user's advisory lock and checks the balance, and the row records the
-- balance left, which can never be negative. The idempotency key is the
-- client's: a replay finds its row and returns it.
CREATE TABLE withdrawals (
    user_id         text        NOT NULL,
    idempotency_key text        NOT NULL,
    amount          bigint      NOT NULL CHECK (amount > 0),
    balance_after   bigint      NOT NULL CHECK (balance_after >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, idempotency_key)
);
