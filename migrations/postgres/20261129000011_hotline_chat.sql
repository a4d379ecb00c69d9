-- Web chats from the public site. The visitor's browser keeps a random token in page
-- memory only; its hash finds the chat again when the connection drops.
CREATE TABLE hotline_chats (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    language    TEXT NOT NULL,
    -- waiting (for an advocate), active, left (the visitor went), closed (saved).
    status      TEXT NOT NULL,
    advocate_id TEXT REFERENCES users (id),
    contact_id  TEXT REFERENCES hotline_contacts (id),
    -- A blind index of the return code shown to the visitor, and the earlier chat whose
    -- code they gave (so the advocate sees that conversation).
    return_index   TEXT,
    returning_from TEXT REFERENCES hotline_chats (id),
    -- The last message's number: the next one takes it plus one.
    last_seq    BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    accepted_at BIGINT,
    closed_at   BIGINT
);
CREATE INDEX hotline_chats_status ON hotline_chats (status, created_at);
CREATE INDEX hotline_chats_return ON hotline_chats (return_index);

-- Each message, numbered within its chat. The sender's own id for a message makes a
-- resend after a reconnect the same message.
CREATE TABLE hotline_chat_messages (
    chat_id    TEXT NOT NULL REFERENCES hotline_chats (id),
    seq        BIGINT NOT NULL,
    sender     TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    body       TEXT NOT NULL,  -- sealed
    created_at BIGINT NOT NULL,
    PRIMARY KEY (chat_id, seq),
    UNIQUE (chat_id, sender, client_id)
);
