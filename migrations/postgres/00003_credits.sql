-- +goose Up
-- credits_remaining NULL: the key has no credits (unlimited). The durable
-- balance is what the limiter has not leased; credits_epoch grows at each
-- refill and each administrator's change; credits_refilled_at is the
-- instant (ms since the Unix epoch) of the last refill, or of the change
-- that set the credits.
ALTER TABLE api_keys ADD COLUMN credits_remaining BIGINT;
ALTER TABLE api_keys ADD COLUMN credits_refill JSONB;
ALTER TABLE api_keys ADD COLUMN credits_refilled_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE api_keys ADD COLUMN credits_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE key_usage ADD COLUMN credits BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE key_usage DROP COLUMN credits;
ALTER TABLE api_keys DROP COLUMN credits_epoch;
ALTER TABLE api_keys DROP COLUMN credits_refilled_at;
ALTER TABLE api_keys DROP COLUMN credits_refill;
ALTER TABLE api_keys DROP COLUMN credits_remaining;
