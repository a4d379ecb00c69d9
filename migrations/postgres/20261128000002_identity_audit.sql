-- Identity (users, roles, sessions) and the hash-chained audit log.

-- Data keys, wrapped by the master key (which lives in a key file, never here).
-- scope: `org:<id>`, `system` or `blind-index`. Rotation re-wraps: `wrapped` and
-- `master_key_id` change, the data key inside does not.
CREATE TABLE data_keys (
    id            TEXT PRIMARY KEY,
    scope         TEXT NOT NULL,
    master_key_id TEXT NOT NULL,
    wrapped       TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    rewrapped_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX data_keys_scope ON data_keys (scope);

-- Staff accounts. The email is the sign-in name of a staff member, not victim data.
-- display_name and phone are sealed (see kernel/crypto.rs); phone_index is the blind
-- index that finds an account by phone number without storing the number.
-- status: active, locked (too many failed sign-ins; an administrator unlocks),
-- disabled (the person left). failed_signins drives the growing delay and the lock.
CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    phone          TEXT,
    phone_index    TEXT,
    password_hash  TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('active', 'locked', 'disabled')),
    org_id         TEXT REFERENCES organizations (id),
    failed_signins BIGINT NOT NULL,
    last_failed_at BIGINT,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE INDEX users_phone_index ON users (phone_index);

-- Role identifiers are the stable strings of the CLI and API (`hotline-advocate`, …).
CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id),
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

-- Sessions are stored by the SHA-256 of their token: a copy of this table does not
-- let anyone sign in. expires_at is the absolute end; last_seen_at drives the idle end.
-- stage: `full`, or a half-finished sign-in waiting for its second factor (`mfa`) or
-- for the account to enrol one (`enrol`); such sessions open nothing else.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    stage        TEXT NOT NULL CHECK (stage IN ('full', 'mfa', 'enrol')),
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- API tokens for integrations: stored by SHA-256 like sessions, shown once at
-- creation. scopes: space-separated action ids, a subset of the owner's permissions
-- (the owner's roles still bound them when used).
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    token_hash   TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (token_hash);

-- TOTP second factor (RFC 6238). secret is sealed; last_step is the newest time step
-- accepted, so a code cannot be used twice. confirmed_at is NULL until the first code
-- proves the authenticator app holds the secret.
CREATE TABLE mfa_totp (
    user_id      TEXT PRIMARY KEY REFERENCES users (id),
    secret       TEXT NOT NULL,
    confirmed_at BIGINT,
    last_step    BIGINT NOT NULL
);

-- One-time recovery codes, stored as SHA-256 of the code (they are long and random).
CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id),
    code_hash TEXT NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- The audit log: append-only and hash-chained. seq comes from the `audit` counter, whose
-- row lock serializes appends across server processes; each row carries the hash of
-- the one before, so changing or deleting a row breaks the chain from there on.
-- Never holds personal values: who did what to which object, not the object's content.
INSERT INTO counters (name, value) VALUES ('audit', 0);
CREATE TABLE audit_events (
    seq         BIGINT PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor_id    TEXT,
    actor_role  TEXT,
    org_id      TEXT,
    action      TEXT NOT NULL,
    object_type TEXT,
    object_id   TEXT,
    request_id  TEXT,
    outcome     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
