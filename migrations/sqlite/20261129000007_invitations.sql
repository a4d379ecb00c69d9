-- Staff accounts an administrator has invited: the person sets the password with a
-- one-time code, stored hashed. The name is sealed like users.display_name.
CREATE TABLE invitations (
    id           TEXT PRIMARY KEY,
    email        TEXT NOT NULL,
    display_name TEXT NOT NULL,
    org_id       TEXT REFERENCES organizations (id),
    roles        TEXT NOT NULL,
    code_hash    TEXT NOT NULL,
    invited_by   TEXT NOT NULL REFERENCES users (id),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX invitations_email ON invitations (email);
CREATE UNIQUE INDEX invitations_code ON invitations (code_hash);
CREATE INDEX invitations_org ON invitations (org_id);
-- Scoped administrators list their own organization's staff.
CREATE INDEX users_org ON users (org_id);
