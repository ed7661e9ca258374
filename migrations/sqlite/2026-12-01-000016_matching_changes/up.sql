-- Which buddy each change to `buddies` or `pairings` concerns. The triggers still move
-- `matching_version` by one per changed row, and now also note the buddy under the version that
-- change got, in the same transaction. A ranking whose cached facts are a few versions behind then
-- reads only the buddies those versions name instead of all of them (`store::candidates`). The
-- oldest entries are pruned as new ones come; a cache further behind reads everything again.
CREATE TABLE matching_changes (
    version   BIGINT PRIMARY KEY,
    buddy_id  TEXT NOT NULL
);
DROP TRIGGER buddies_insert_moves_matching;
CREATE TRIGGER buddies_insert_moves_matching AFTER INSERT ON buddies
BEGIN
    UPDATE matching_version SET version = version + 1 WHERE id = 1;
    INSERT INTO matching_changes (version, buddy_id)
        SELECT version, NEW.id FROM matching_version WHERE id = 1;
    DELETE FROM matching_changes
        WHERE version <= (SELECT version - 4096 FROM matching_version WHERE id = 1)
          AND (SELECT version % 1024 FROM matching_version WHERE id = 1) = 0;
END;
DROP TRIGGER buddies_update_moves_matching;
CREATE TRIGGER buddies_update_moves_matching AFTER UPDATE ON buddies
BEGIN
    UPDATE matching_version SET version = version + 1 WHERE id = 1;
    INSERT INTO matching_changes (version, buddy_id)
        SELECT version, NEW.id FROM matching_version WHERE id = 1;
    DELETE FROM matching_changes
        WHERE version <= (SELECT version - 4096 FROM matching_version WHERE id = 1)
          AND (SELECT version % 1024 FROM matching_version WHERE id = 1) = 0;
END;
DROP TRIGGER buddies_delete_moves_matching;
CREATE TRIGGER buddies_delete_moves_matching AFTER DELETE ON buddies
BEGIN
    UPDATE matching_version SET version = version + 1 WHERE id = 1;
    INSERT INTO matching_changes (version, buddy_id)
        SELECT version, OLD.id FROM matching_version WHERE id = 1;
    DELETE FROM matching_changes
        WHERE version <= (SELECT version - 4096 FROM matching_version WHERE id = 1)
          AND (SELECT version % 1024 FROM matching_version WHERE id = 1) = 0;
END;
DROP TRIGGER pairings_insert_moves_matching;
CREATE TRIGGER pairings_insert_moves_matching AFTER INSERT ON pairings
BEGIN
    UPDATE matching_version SET version = version + 1 WHERE id = 1;
    INSERT INTO matching_changes (version, buddy_id)
        SELECT version, NEW.buddy_id FROM matching_version WHERE id = 1;
    DELETE FROM matching_changes
        WHERE version <= (SELECT version - 4096 FROM matching_version WHERE id = 1)
          AND (SELECT version % 1024 FROM matching_version WHERE id = 1) = 0;
END;
DROP TRIGGER pairings_update_moves_matching;
CREATE TRIGGER pairings_update_moves_matching AFTER UPDATE ON pairings
BEGIN
    UPDATE matching_version SET version = version + 1 WHERE id = 1;
    INSERT INTO matching_changes (version, buddy_id)
        SELECT version, NEW.buddy_id FROM matching_version WHERE id = 1;
    DELETE FROM matching_changes
        WHERE version <= (SELECT version - 4096 FROM matching_version WHERE id = 1)
          AND (SELECT version % 1024 FROM matching_version WHERE id = 1) = 0;
END;
DROP TRIGGER pairings_delete_moves_matching;
CREATE TRIGGER pairings_delete_moves_matching AFTER DELETE ON pairings
BEGIN
    UPDATE matching_version SET version = version + 1 WHERE id = 1;
    INSERT INTO matching_changes (version, buddy_id)
        SELECT version, OLD.buddy_id FROM matching_version WHERE id = 1;
    DELETE FROM matching_changes
        WHERE version <= (SELECT version - 4096 FROM matching_version WHERE id = 1)
          AND (SELECT version % 1024 FROM matching_version WHERE id = 1) = 0;
END;
