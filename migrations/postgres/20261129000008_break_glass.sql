-- Break-glass grants: a supervisor's hour of access to one organization's records for
-- one action, given with a reason (sealed).
CREATE TABLE break_glass_grants (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    org_id     TEXT NOT NULL REFERENCES organizations (id),
    action     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX break_glass_grants_holder ON break_glass_grants (user_id, org_id, action, expires_at);
CREATE INDEX break_glass_grants_created ON break_glass_grants (created_at);
