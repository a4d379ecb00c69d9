-- The Open Referral HSDS 3.0 tables, column for column as its datapackage.json
-- describes them (the program reads that file to know the columns). No foreign
-- keys: HSDS data may refer to records published elsewhere, and the import checks
-- every reference it needs before it writes. Street addresses of confidential
-- locations (location_type 'redacted') hold sealed ciphertext, never plain text.

CREATE TABLE hsds_organization (
    "id" TEXT PRIMARY KEY,
    "name" TEXT,
    "alternate_name" TEXT,
    "description" TEXT,
    "email" TEXT,
    "website" TEXT,
    "tax_status" TEXT,
    "tax_id" TEXT,
    "year_incorporated" DOUBLE PRECISION,
    "legal_status" TEXT,
    "logo" TEXT,
    "uri" TEXT,
    "parent_organization_id" TEXT
);
CREATE INDEX hsds_organization_parent_organization_id ON hsds_organization ("parent_organization_id");

CREATE TABLE hsds_program (
    "id" TEXT PRIMARY KEY,
    "organization_id" TEXT,
    "name" TEXT,
    "alternate_name" TEXT,
    "description" TEXT
);
CREATE INDEX hsds_program_organization_id ON hsds_program ("organization_id");

CREATE TABLE hsds_service (
    "id" TEXT PRIMARY KEY,
    "organization_id" TEXT,
    "program_id" TEXT,
    "name" TEXT,
    "alternate_name" TEXT,
    "description" TEXT,
    "url" TEXT,
    "email" TEXT,
    "status" TEXT,
    "interpretation_services" TEXT,
    "application_process" TEXT,
    "fees_description" TEXT,
    "wait_time" TEXT,
    "fees" TEXT,
    "accreditations" TEXT,
    "eligibility_description" TEXT,
    "minimum_age" DOUBLE PRECISION,
    "maximum_age" DOUBLE PRECISION,
    "assured_date" TEXT,
    "assurer_email" TEXT,
    "licenses" TEXT,
    "alert" TEXT,
    "last_modified" TEXT
);
CREATE INDEX hsds_service_organization_id ON hsds_service ("organization_id");
CREATE INDEX hsds_service_program_id ON hsds_service ("program_id");

CREATE TABLE hsds_attribute (
    "id" TEXT PRIMARY KEY,
    "link_id" TEXT,
    "taxonomy_term_id" TEXT,
    "link_type" TEXT,
    "link_entity" TEXT,
    "value" TEXT
);
CREATE INDEX hsds_attribute_link_id ON hsds_attribute ("link_id");
CREATE INDEX hsds_attribute_taxonomy_term_id ON hsds_attribute ("taxonomy_term_id");

CREATE TABLE hsds_service_at_location (
    "id" TEXT PRIMARY KEY,
    "service_id" TEXT,
    "location_id" TEXT,
    "description" TEXT
);
CREATE INDEX hsds_service_at_location_service_id ON hsds_service_at_location ("service_id");
CREATE INDEX hsds_service_at_location_location_id ON hsds_service_at_location ("location_id");

CREATE TABLE hsds_location (
    "id" TEXT PRIMARY KEY,
    "location_type" TEXT,
    "url" TEXT,
    "organization_id" TEXT,
    "name" TEXT,
    "alternate_name" TEXT,
    "description" TEXT,
    "transportation" TEXT,
    "latitude" DOUBLE PRECISION,
    "longitude" DOUBLE PRECISION,
    "external_identifier" TEXT,
    "external_identifier_type" TEXT
);
CREATE INDEX hsds_location_organization_id ON hsds_location ("organization_id");

CREATE TABLE hsds_phone (
    "id" TEXT PRIMARY KEY,
    "location_id" TEXT,
    "service_id" TEXT,
    "organization_id" TEXT,
    "contact_id" TEXT,
    "service_at_location_id" TEXT,
    "number" TEXT,
    "extension" DOUBLE PRECISION,
    "type" TEXT,
    "description" TEXT
);
CREATE INDEX hsds_phone_location_id ON hsds_phone ("location_id");
CREATE INDEX hsds_phone_service_id ON hsds_phone ("service_id");
CREATE INDEX hsds_phone_organization_id ON hsds_phone ("organization_id");
CREATE INDEX hsds_phone_contact_id ON hsds_phone ("contact_id");
CREATE INDEX hsds_phone_service_at_location_id ON hsds_phone ("service_at_location_id");

CREATE TABLE hsds_contact (
    "id" TEXT PRIMARY KEY,
    "organization_id" TEXT,
    "service_id" TEXT,
    "service_at_location_id" TEXT,
    "location_id" TEXT,
    "name" TEXT,
    "title" TEXT,
    "department" TEXT,
    "email" TEXT
);
CREATE INDEX hsds_contact_organization_id ON hsds_contact ("organization_id");
CREATE INDEX hsds_contact_service_id ON hsds_contact ("service_id");
CREATE INDEX hsds_contact_service_at_location_id ON hsds_contact ("service_at_location_id");
CREATE INDEX hsds_contact_location_id ON hsds_contact ("location_id");

CREATE TABLE hsds_address (
    "id" TEXT PRIMARY KEY,
    "location_id" TEXT,
    "attention" TEXT,
    "address_1" TEXT,
    "address_2" TEXT,
    "city" TEXT,
    "region" TEXT,
    "state_province" TEXT,
    "postal_code" TEXT,
    "country" TEXT,
    "address_type" TEXT
);
CREATE INDEX hsds_address_location_id ON hsds_address ("location_id");

CREATE TABLE hsds_schedule (
    "id" TEXT PRIMARY KEY,
    "service_id" TEXT,
    "location_id" TEXT,
    "service_at_location_id" TEXT,
    "valid_from" TEXT,
    "valid_to" TEXT,
    "dtstart" TEXT,
    "timezone" DOUBLE PRECISION,
    "until" TEXT,
    "count" DOUBLE PRECISION,
    "wkst" TEXT,
    "freq" TEXT,
    "interval" DOUBLE PRECISION,
    "byday" TEXT,
    "byweekno" TEXT,
    "bymonthday" TEXT,
    "byyearday" TEXT,
    "description" TEXT,
    "opens_at" TEXT,
    "closes_at" TEXT,
    "schedule_link" TEXT,
    "attending_type" TEXT,
    "notes" TEXT
);
CREATE INDEX hsds_schedule_service_id ON hsds_schedule ("service_id");
CREATE INDEX hsds_schedule_location_id ON hsds_schedule ("location_id");
CREATE INDEX hsds_schedule_service_at_location_id ON hsds_schedule ("service_at_location_id");

CREATE TABLE hsds_funding (
    "id" TEXT PRIMARY KEY,
    "organization_id" TEXT,
    "service_id" TEXT,
    "source" TEXT
);
CREATE INDEX hsds_funding_organization_id ON hsds_funding ("organization_id");
CREATE INDEX hsds_funding_service_id ON hsds_funding ("service_id");

CREATE TABLE hsds_service_area (
    "id" TEXT PRIMARY KEY,
    "service_id" TEXT,
    "name" TEXT,
    "description" TEXT,
    "extent" TEXT,
    "extent_type" TEXT,
    "uri" TEXT
);
CREATE INDEX hsds_service_area_service_id ON hsds_service_area ("service_id");

CREATE TABLE hsds_required_document (
    "id" TEXT PRIMARY KEY,
    "service_id" TEXT,
    "document" TEXT,
    "uri" TEXT
);
CREATE INDEX hsds_required_document_service_id ON hsds_required_document ("service_id");

CREATE TABLE hsds_language (
    "id" TEXT PRIMARY KEY,
    "service_id" TEXT,
    "location_id" TEXT,
    "phone_id" TEXT,
    "name" TEXT,
    "code" TEXT,
    "note" TEXT
);
CREATE INDEX hsds_language_service_id ON hsds_language ("service_id");
CREATE INDEX hsds_language_location_id ON hsds_language ("location_id");
CREATE INDEX hsds_language_phone_id ON hsds_language ("phone_id");

CREATE TABLE hsds_accessibility (
    "id" TEXT PRIMARY KEY,
    "location_id" TEXT,
    "description" TEXT,
    "details" TEXT,
    "url" TEXT
);
CREATE INDEX hsds_accessibility_location_id ON hsds_accessibility ("location_id");

CREATE TABLE hsds_taxonomy_term (
    "id" TEXT PRIMARY KEY,
    "code" TEXT,
    "name" TEXT,
    "description" TEXT,
    "parent_id" TEXT,
    "taxonomy" TEXT,
    "language" TEXT,
    "taxonomy_id" TEXT,
    "term_uri" TEXT
);
CREATE INDEX hsds_taxonomy_term_parent_id ON hsds_taxonomy_term ("parent_id");
CREATE INDEX hsds_taxonomy_term_taxonomy_id ON hsds_taxonomy_term ("taxonomy_id");

CREATE TABLE hsds_metadata (
    "id" TEXT PRIMARY KEY,
    "resource_id" TEXT,
    "resource_type" TEXT,
    "last_action_date" TEXT,
    "last_action_type" TEXT,
    "field_name" TEXT,
    "previous_value" TEXT,
    "replacement_value" TEXT,
    "updated_by" TEXT
);
CREATE INDEX hsds_metadata_resource_id ON hsds_metadata ("resource_id");

CREATE TABLE hsds_meta_table_description (
    "id" TEXT PRIMARY KEY,
    "name" TEXT,
    "language" TEXT,
    "character_set" TEXT
);

CREATE TABLE hsds_cost_option (
    "id" TEXT PRIMARY KEY,
    "service_id" TEXT,
    "valid_from" TEXT,
    "valid_to" TEXT,
    "option" TEXT,
    "currency" TEXT,
    "amount" DOUBLE PRECISION,
    "amount_description" TEXT
);
CREATE INDEX hsds_cost_option_service_id ON hsds_cost_option ("service_id");

CREATE TABLE hsds_organization_identifier (
    "id" TEXT PRIMARY KEY,
    "organization_id" TEXT,
    "identifier_scheme" TEXT,
    "identifier_type" TEXT,
    "identifier" TEXT
);
CREATE INDEX hsds_organization_identifier_organization_id ON hsds_organization_identifier ("organization_id");

CREATE TABLE hsds_taxonomy (
    "id" TEXT PRIMARY KEY,
    "name" TEXT,
    "description" TEXT,
    "uri" TEXT,
    "version" TEXT
);

-- Listing state of each directory organization: applied (public form) -> listed by a
-- curator (or rejected) -> re-verified every year; a listing not re-verified in time
-- plus a grace period drops out of public results by itself (no job needed).
-- Suspended and withdrawn listings are not public. Only listed organizations and
-- what belongs to them are public.
CREATE TABLE directory_listings (
    organization_id       TEXT PRIMARY KEY,
    status                TEXT NOT NULL CHECK (status IN ('applied', 'listed', 'rejected', 'suspended', 'withdrawn')),
    last_verified_at      BIGINT,
    contact_email         TEXT,
    -- The applicant's references, sealed (they name and reach other people).
    references_sealed     TEXT,
    agrees_referrals      BIGINT NOT NULL DEFAULT 0,
    agrees_warm_transfers BIGINT NOT NULL DEFAULT 0,
    applied_at            BIGINT,
    reviewed_by           TEXT,
    reviewed_at           BIGINT,
    review_note           TEXT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE INDEX directory_listings_status ON directory_listings (status, organization_id);

-- "Modified after" and the search index follow the change log by entity.
CREATE INDEX change_log_entity ON change_log (entity, changed_at);
