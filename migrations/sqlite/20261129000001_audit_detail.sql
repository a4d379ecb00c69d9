-- What changed, for events where the object id alone does not say it (the roles a
-- permission change granted, the scopes of a token). Never personal values.
ALTER TABLE audit_events ADD COLUMN detail TEXT;
