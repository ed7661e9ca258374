DROP TRIGGER buddies_note_matching ON buddies;
DROP TRIGGER pairings_note_matching ON pairings;
DROP FUNCTION note_matching_change();
CREATE TRIGGER buddies_move_matching AFTER INSERT OR UPDATE OR DELETE ON buddies
    FOR EACH STATEMENT EXECUTE FUNCTION move_matching_version();
CREATE TRIGGER pairings_move_matching AFTER INSERT OR UPDATE OR DELETE ON pairings
    FOR EACH STATEMENT EXECUTE FUNCTION move_matching_version();
DROP TABLE matching_changes;
