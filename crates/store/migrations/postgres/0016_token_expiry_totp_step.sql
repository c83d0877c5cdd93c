-- API tokens may expire (expires_at, UTC instant; NULL: until revoked) and are listed per owner.
-- The last accepted TOTP time step of each account (Unix time / 30), so that a code, once used, cannot
-- complete a second login within its window (a replay); set in the same statement that accepts the code.

ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
CREATE INDEX api_tokens_user ON api_tokens(user_id);

ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
