-- A report's reference number from the agency (a case or incident number) and when the
-- advocate made it, which may be before it is recorded here.
ALTER TABLE hotline_reports ADD COLUMN reference TEXT;
ALTER TABLE hotline_reports ADD COLUMN reported_at BIGINT;
