-- Individuals in the directory (attorneys, trainers, researchers, survivor leaders,
-- interpreters). Their name, email and phone are sealed like every person's, even
-- when they chose to publish them: a survivor leader's name is not for a stolen disk.
CREATE TABLE directory_individuals (
    id              TEXT PRIMARY KEY,
    name_sealed     TEXT NOT NULL,
    email_sealed    TEXT,
    phone_sealed    TEXT,
    title           TEXT NOT NULL,
    bio             TEXT NOT NULL,
    -- Space-separated ids (expertise), language codes and state codes.
    expertise       TEXT NOT NULL,
    languages       TEXT NOT NULL,
    states          TEXT NOT NULL,
    organization_id TEXT,
    preference      TEXT NOT NULL CHECK (preference IN ('direct', 'through-organization', 'through-hotline')),
    listed          BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    updated_by      TEXT
);
