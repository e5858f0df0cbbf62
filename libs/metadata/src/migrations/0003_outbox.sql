-- Events written in the same transaction as the change they announce; a relay appends them to
-- the event log and deletes them (at least once). `claimed_until` leases a row to one relay.
CREATE TABLE outbox (
  id            bigserial PRIMARY KEY,
  topic         text NOT NULL,
  key           text NOT NULL,
  value         bytea NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  claimed_until timestamptz
);
