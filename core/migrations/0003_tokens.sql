-- One token path and metered reads (issue 14).
-- access_lifetime: seconds the last access token was issued for (the refresh leeway scales with it).
-- refresh_hard_expires_at: the refresh token's five-year hard expiry (epoch seconds; NULL until QBO tells us).
-- refresh_lease_owner/_until: the cross-process lease a refresh holds (host:pid:nonce, epoch seconds).
ALTER TABLE qbo_connection ADD COLUMN access_lifetime INTEGER;
ALTER TABLE qbo_connection ADD COLUMN refresh_hard_expires_at INTEGER;
ALTER TABLE qbo_connection ADD COLUMN refresh_lease_owner TEXT;
ALTER TABLE qbo_connection ADD COLUMN refresh_lease_until REAL;

-- Metered (CorePlus) calls made per QBO company per calendar month (UTC), e.g. month '2026-12'.
CREATE TABLE IF NOT EXISTS qbo_metered_reads (
  realm_id TEXT NOT NULL,
  month TEXT NOT NULL CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]'),
  count INTEGER NOT NULL DEFAULT 0 CHECK (count >= 0),
  PRIMARY KEY (realm_id, month)
) STRICT;
