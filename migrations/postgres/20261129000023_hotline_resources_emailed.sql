-- Library documents emailed to a caller: the address they gave for it is sealed here
-- (the contact holds no email). For texts it stays empty (the number is the contact's).
ALTER TABLE hotline_resources_sent ADD COLUMN recipient TEXT;
