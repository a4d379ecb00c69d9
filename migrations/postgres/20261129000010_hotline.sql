-- The hotline: contacts on every channel and the cases (situations) they are about.
-- Columns marked "sealed" hold XChaCha20-Poly1305 ciphertext (kernel::crypto); those
-- marked "blind index" a keyed hash that finds equal values without revealing them.

-- One potential trafficking situation, over many contacts.
CREATE TABLE hotline_cases (
    id               TEXT PRIMARY KEY,
    status           TEXT NOT NULL,
    trafficking_type TEXT NOT NULL,
    -- The level the latest screening suggested: none, low, moderate, high.
    indicator_level  TEXT,
    created_by       TEXT NOT NULL REFERENCES users (id),
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX hotline_cases_status ON hotline_cases (status, updated_at);

-- One interaction. The advocate's idempotency key makes a retried save one contact.
CREATE TABLE hotline_contacts (
    id                 TEXT PRIMARY KEY,
    advocate_id        TEXT NOT NULL REFERENCES users (id),
    idempotency_key    TEXT NOT NULL,
    request_hash       TEXT NOT NULL,
    case_id            TEXT REFERENCES hotline_cases (id),
    channel            TEXT NOT NULL,
    direction          TEXT NOT NULL,
    started_at         BIGINT NOT NULL,
    ended_at           BIGINT,
    language           TEXT NOT NULL,
    interpreter        BIGINT NOT NULL,
    caller_type        TEXT NOT NULL,
    caller_city        TEXT,
    caller_state       TEXT,
    heard_from         TEXT,
    reasons            TEXT NOT NULL,
    narrative          TEXT,    -- sealed
    notes              TEXT,    -- sealed
    caller_phone       TEXT,    -- sealed
    caller_phone_index TEXT,    -- blind index
    safe_to_call       BIGINT,
    voicemail_ok       BIGINT,
    code_word          TEXT,    -- sealed
    outcome            TEXT,
    created_at         BIGINT NOT NULL,
    UNIQUE (advocate_id, idempotency_key)
);
CREATE INDEX hotline_contacts_case ON hotline_contacts (case_id);
CREATE INDEX hotline_contacts_phone ON hotline_contacts (caller_phone_index);
CREATE INDEX hotline_contacts_started ON hotline_contacts (started_at);

-- A text conversation with one sender.
CREATE TABLE sms_threads (
    id              TEXT PRIMARY KEY,
    sender_index    TEXT NOT NULL UNIQUE,  -- blind index
    sender          TEXT NOT NULL,         -- sealed
    opted_out       BIGINT NOT NULL,
    status          TEXT NOT NULL,
    last_message_at BIGINT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX sms_threads_status ON sms_threads (status, last_message_at);

-- Each text in and out. Twilio retries a webhook it had no answer to: its MessageSid
-- makes the retry the same message.
CREATE TABLE sms_messages (
    id          TEXT PRIMARY KEY,
    thread_id   TEXT NOT NULL REFERENCES sms_threads (id),
    message_sid TEXT NOT NULL UNIQUE,
    direction   TEXT NOT NULL,
    body        TEXT NOT NULL,  -- sealed
    created_at  BIGINT NOT NULL
);
CREATE INDEX sms_messages_thread ON sms_messages (thread_id, created_at);

-- A screening: the answers to one version of the questionnaire (sealed, as JSON) and
-- what its rules suggested. The advocate's determination is the case's.
CREATE TABLE hotline_screenings (
    id              TEXT PRIMARY KEY,
    case_id         TEXT NOT NULL REFERENCES hotline_cases (id),
    version         BIGINT NOT NULL,
    answers         TEXT NOT NULL,  -- sealed
    suggested_level TEXT NOT NULL,
    suggested_type  TEXT NOT NULL,
    created_by      TEXT NOT NULL REFERENCES users (id),
    created_at      BIGINT NOT NULL
);
CREATE INDEX hotline_screenings_case ON hotline_screenings (case_id, created_at);

-- A case that reached high indicators or involves a minor alerts the supervisors on
-- duty until one of them acknowledges it.
CREATE TABLE hotline_alerts (
    id              TEXT PRIMARY KEY,
    case_id         TEXT NOT NULL REFERENCES hotline_cases (id),
    kind            TEXT NOT NULL,
    raised_at       BIGINT NOT NULL,
    acknowledged_by TEXT REFERENCES users (id),
    acknowledged_at BIGINT,
    UNIQUE (case_id, kind)
);
CREATE INDEX hotline_alerts_open ON hotline_alerts (acknowledged_at, raised_at);

-- A report to law enforcement or child welfare: only the fields the consent rule let
-- through (sealed, as JSON), on what basis, and the reason when it went without consent.
CREATE TABLE hotline_reports (
    id              TEXT PRIMARY KEY,
    case_id         TEXT NOT NULL REFERENCES hotline_cases (id),
    agency          TEXT NOT NULL,
    agency_name     TEXT NOT NULL,
    method          TEXT NOT NULL,
    basis           TEXT NOT NULL,
    override_reason TEXT,  -- sealed
    document        TEXT NOT NULL,  -- sealed
    created_by      TEXT NOT NULL REFERENCES users (id),
    created_at      BIGINT NOT NULL
);
CREATE INDEX hotline_reports_case ON hotline_reports (case_id, created_at);

-- Who is on duty when: the coverage view shows every hour of the next two weeks with no
-- advocate or no supervisor.
CREATE TABLE hotline_shifts (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    role       TEXT NOT NULL,
    starts_at  BIGINT NOT NULL,
    ends_at    BIGINT NOT NULL,
    created_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX hotline_shifts_time ON hotline_shifts (ends_at, starts_at);

-- A referral from a contact to a directory service, and what came of it.
CREATE TABLE hotline_referrals (
    id               TEXT PRIMARY KEY,
    contact_id       TEXT NOT NULL REFERENCES hotline_contacts (id),
    service_id       TEXT NOT NULL,
    service_name     TEXT NOT NULL,
    urgency          TEXT NOT NULL,
    kind             TEXT NOT NULL,
    partner_capacity TEXT,
    follow_up_due    TEXT,
    outcome          TEXT,
    notes            TEXT,  -- sealed
    created_by       TEXT NOT NULL REFERENCES users (id),
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX hotline_referrals_contact ON hotline_referrals (contact_id);
CREATE INDEX hotline_referrals_due ON hotline_referrals (outcome, follow_up_due);

-- The crisis checklist of a contact with someone in immediate danger: each step done
-- (when) or skipped (why, sealed: a reason may name people).
CREATE TABLE hotline_crisis_steps (
    contact_id     TEXT NOT NULL REFERENCES hotline_contacts (id),
    step           TEXT NOT NULL,
    done_at        BIGINT,
    skipped_reason TEXT,  -- sealed
    recorded_by    TEXT NOT NULL REFERENCES users (id),
    recorded_at    BIGINT NOT NULL,
    PRIMARY KEY (contact_id, step)
);
CREATE INDEX hotline_crisis_steps_done ON hotline_crisis_steps (step, done_at);

-- A supervisor's review of a contact: a score and comments (sealed).
CREATE TABLE hotline_reviews (
    id          TEXT PRIMARY KEY,
    contact_id  TEXT NOT NULL REFERENCES hotline_contacts (id),
    score       BIGINT NOT NULL,
    comments    TEXT,  -- sealed
    reviewed_by TEXT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL
);
CREATE INDEX hotline_reviews_contact ON hotline_reviews (contact_id);

-- What identifies people and places in a case (persons of interest' phones, emails,
-- names, addresses, websites or ads, vehicle plates): sealed, with a blind index of the
-- normalized value, so a later contact or case naming the same one is suggested.
CREATE TABLE hotline_case_identifiers (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES hotline_cases (id),
    kind        TEXT NOT NULL,
    value       TEXT NOT NULL,  -- sealed
    blind_index TEXT NOT NULL,
    created_by  TEXT NOT NULL REFERENCES users (id),
    created_at  BIGINT NOT NULL
);
CREATE INDEX hotline_case_identifiers_blind ON hotline_case_identifiers (blind_index);
CREATE INDEX hotline_case_identifiers_case ON hotline_case_identifiers (case_id);
