DROP TRIGGER buddies_insert_moves_matching;
CREATE TRIGGER buddies_insert_moves_matching AFTER INSERT ON buddies
BEGIN
    UPDATE matching_version SET version = version + 1 WHERE id = 1;
END;
DROP TRIGGER buddies_update_moves_matching;
CREATE TRIGGER buddies_update_moves_matching AFTER UPDATE ON buddies
BEGIN
    UPDATE matching_version SET version = version + 1 WHERE id = 1;
END;
DROP TRIGGER buddies_delete_moves_matching;
CREATE TRIGGER buddies_delete_moves_matching AFTER DELETE ON buddies
BEGIN
    UPDATE matching_version SET version = version + 1 WHERE id = 1;
END;
DROP TRIGGER pairings_insert_moves_matching;
CREATE TRIGGER pairings_insert_moves_matching AFTER INSERT ON pairings
BEGIN
    UPDATE matching_version SET version = version + 1 WHERE id = 1;
END;
DROP TRIGGER pairings_update_moves_matching;
CREATE TRIGGER pairings_update_moves_matching AFTER UPDATE ON pairings
BEGIN
    UPDATE matching_version SET version = version + 1 WHERE id = 1;
END;
DROP TRIGGER pairings_delete_moves_matching;
CREATE TRIGGER pairings_delete_moves_matching AFTER DELETE ON pairings
BEGIN
    UPDATE matching_version SET version = version + 1 WHERE id = 1;
END;
DROP TABLE matching_changes;
