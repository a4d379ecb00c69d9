-- Kernel tables: named counters, the change log (outbox) and background jobs.
-- Keys are UUIDv7 text generated in Rust; times are microseconds since the Unix epoch
-- (BIGINT) so that the same SQL compares them on SQLite and PostgreSQL.

-- Named counters. A counter row is updated with `value = value + 1 ... RETURNING`,
-- which holds the row lock until commit: numbers are handed out in commit order,
-- so readers that follow `seq > last_seen` never skip a row committed late.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('change_log', 0);

-- Every write of an indexed record appends here in the same transaction; search
-- indexes and notifications follow it. Never holds personal values, only ids.
CREATE TABLE change_log (
    seq        BIGINT PRIMARY KEY,
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    op         TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    changed_at BIGINT NOT NULL
);

-- Background jobs. state: queued -> running -> done | queued (retry) | dead.
-- `locked_until` is a lease: a running job whose worker died is claimed again after it.
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    attempts     BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    run_at       BIGINT NOT NULL,
    locked_by    TEXT,
    locked_until BIGINT,
    last_error   TEXT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs (state, run_at);

-- Organizations taking part in the program: national grantees, their sub-awardee NGOs,
-- law-enforcement agencies, coalitions. They are the tenants that scope provider data.
CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('national_grantee', 'sub_awardee', 'law_enforcement', 'coalition', 'federal_agency')),
    parent_id  TEXT REFERENCES organizations (id),
    city       TEXT NOT NULL,
    state      TEXT NOT NULL,
    latitude   DOUBLE PRECISION NOT NULL,
    longitude  DOUBLE PRECISION NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX organizations_name ON organizations (name);
CREATE INDEX organizations_kind ON organizations (kind, name);

-- Facts about this database itself (for example which demo seed filled it).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
