-- Technical assistance: a professional's question, taken on a contact and tracked until
-- the hotline answers it. Question and answer are sealed.
CREATE TABLE hotline_ta_requests (
    id          TEXT PRIMARY KEY,
    contact_id  TEXT NOT NULL REFERENCES hotline_contacts (id),
    topic       TEXT NOT NULL,
    question    TEXT NOT NULL,  -- sealed
    due_on      TEXT,
    answer      TEXT,           -- sealed
    answered_by TEXT REFERENCES users (id),
    answered_at BIGINT,
    created_by  TEXT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL
);
CREATE INDEX hotline_ta_requests_open ON hotline_ta_requests (answered_at, due_on);
