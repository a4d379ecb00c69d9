-- Library documents texted to a caller who agreed to receive them. The number is the
-- contact's (sealed there); the document and its title are public.
CREATE TABLE hotline_resources_sent (
    id          TEXT PRIMARY KEY,
    contact_id  TEXT NOT NULL REFERENCES hotline_contacts (id),
    document_id TEXT NOT NULL,
    channel     TEXT NOT NULL,
    message_sid TEXT NOT NULL,
    sent_by     TEXT NOT NULL REFERENCES users (id),
    sent_at     BIGINT NOT NULL
);
CREATE INDEX hotline_resources_sent_contact ON hotline_resources_sent (contact_id);
