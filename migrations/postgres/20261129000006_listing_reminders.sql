-- When the last re-verification reminder went to a listing's contact.
ALTER TABLE directory_listings ADD COLUMN reminded_at BIGINT;
