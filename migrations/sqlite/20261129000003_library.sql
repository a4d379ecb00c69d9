-- The resource library: documents (metadata, edited in place and audited), their
-- versions (a new version never replaces an old one) and the files themselves,
-- stored once per checksum so re-imports and reverted versions cost nothing.

CREATE TABLE library_files (
    sha256     TEXT PRIMARY KEY,
    size_bytes BIGINT NOT NULL,
    content    BLOB NOT NULL
);

CREATE TABLE library_documents (
    id             TEXT PRIMARY KEY,
    -- The file name or link an import took it from, so a re-import updates it.
    import_key     TEXT UNIQUE,
    title          TEXT NOT NULL,
    summary        TEXT NOT NULL,
    -- Space-separated ids from fixed lists (audiences, topics) and language codes.
    audiences      TEXT NOT NULL,
    topics         TEXT NOT NULL,
    languages      TEXT NOT NULL,
    publisher      TEXT NOT NULL,
    published_on   TEXT,
    visibility     TEXT NOT NULL CHECK (visibility IN ('public', 'internal')),
    latest_version BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    updated_by     TEXT
);

CREATE TABLE library_versions (
    document_id    TEXT NOT NULL REFERENCES library_documents (id),
    number         BIGINT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('pdf', 'html', 'text', 'link')),
    file_name      TEXT,
    sha256         TEXT REFERENCES library_files (sha256),
    url            TEXT,
    note           TEXT NOT NULL,
    extraction     TEXT NOT NULL CHECK (extraction IN ('pending', 'done', 'failed', 'none')),
    extracted_text TEXT,
    -- Counted without recording who downloaded.
    downloads      BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    created_by     TEXT,
    PRIMARY KEY (document_id, number)
);
