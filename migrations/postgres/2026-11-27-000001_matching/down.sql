DROP INDEX pairings_buddy_proposed;
DROP INDEX request_exclusions_buddy;
DROP TABLE request_exclusions;
ALTER TABLE buddy_requests DROP COLUMN measure;
