-- Hotline staff's notes on a listing ("intake answers before noon only"), kept for
-- the next advocate who refers there. Sealed: free text can name people.
CREATE TABLE directory_listing_notes (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    note_sealed     TEXT NOT NULL,
    author_role     TEXT,
    created_by      TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX directory_listing_notes_organization ON directory_listing_notes (organization_id, created_at);
