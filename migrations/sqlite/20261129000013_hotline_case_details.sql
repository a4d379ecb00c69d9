-- What a hotline case is about, beyond its type: the potential victims, the codes that
-- describe the situation (genders, nationalities, venues, means of control,
-- recruitment: JSON, none naming a person), where it happens, and in sealed columns the
-- persons of interest and the advocates' summary.
-- The advocates' own determination of the indicator level (screening only suggests).
ALTER TABLE hotline_cases ADD COLUMN determined_level TEXT;
ALTER TABLE hotline_cases ADD COLUMN potential_victims BIGINT;
ALTER TABLE hotline_cases ADD COLUMN minors_involved BIGINT;
ALTER TABLE hotline_cases ADD COLUMN codes TEXT;
ALTER TABLE hotline_cases ADD COLUMN exploitation_city TEXT;
ALTER TABLE hotline_cases ADD COLUMN exploitation_state TEXT;
ALTER TABLE hotline_cases ADD COLUMN persons_of_interest TEXT;  -- sealed
ALTER TABLE hotline_cases ADD COLUMN summary TEXT;              -- sealed

-- Who changed a case's description, when, and which fields (for its timeline).
CREATE TABLE hotline_case_changes (
    id         TEXT PRIMARY KEY,
    case_id    TEXT NOT NULL REFERENCES hotline_cases (id),
    fields     TEXT NOT NULL,
    changed_by TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);
CREATE INDEX hotline_case_changes_case ON hotline_case_changes (case_id, created_at);

-- The indicators count a period's cases by when they were opened.
CREATE INDEX hotline_cases_created ON hotline_cases (created_at);
