-- Calls to the voice line, from the first ring to the end. Nothing is recorded: these
-- rows hold who called (sealed), in which language, who answered and for how long.
-- The advocate who answered writes the call up as a contact.
CREATE TABLE hotline_calls (
    id           TEXT PRIMARY KEY,
    call_sid     TEXT NOT NULL UNIQUE,
    caller       TEXT,   -- sealed
    caller_index TEXT,   -- blind index
    language     TEXT,
    -- menu, ringing, answered, unanswered, completed.
    status       TEXT NOT NULL,
    answered_by  TEXT REFERENCES users (id),
    contact_id   TEXT REFERENCES hotline_contacts (id),
    started_at   BIGINT NOT NULL,
    answered_at  BIGINT,
    ended_at     BIGINT,
    duration_s   BIGINT
);
CREATE INDEX hotline_calls_answered_by ON hotline_calls (answered_by, contact_id);
