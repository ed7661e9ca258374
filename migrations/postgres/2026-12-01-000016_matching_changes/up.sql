-- Which buddy each change to `buddies` or `pairings` concerns. The triggers still move
-- `matching_version` by one per changed row, and now also note the buddy under the version that
-- change got, in the same transaction. A ranking whose cached facts are a few versions behind then
-- reads only the buddies those versions name instead of all of them (`store::candidates`). The
-- oldest entries are pruned as new ones come; a cache further behind reads everything again.
CREATE TABLE matching_changes (
    version   BIGINT PRIMARY KEY,
    buddy_id  TEXT NOT NULL
);
CREATE FUNCTION note_matching_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed TEXT;
    moved BIGINT;
BEGIN
    -- TG_ARGV[0] names the column holding the buddy's id.
    IF TG_OP = 'DELETE' THEN
        changed := to_jsonb(OLD) ->> TG_ARGV[0];
    ELSE
        changed := to_jsonb(NEW) ->> TG_ARGV[0];
    END IF;
    UPDATE matching_version SET version = version + 1 WHERE id = 1 RETURNING version INTO moved;
    INSERT INTO matching_changes (version, buddy_id) VALUES (moved, changed);
    IF moved % 1024 = 0 THEN
        DELETE FROM matching_changes WHERE version <= moved - 4096;
    END IF;
    RETURN NULL;
END;
$$;
DROP TRIGGER buddies_move_matching ON buddies;
DROP TRIGGER pairings_move_matching ON pairings;
CREATE TRIGGER buddies_note_matching AFTER INSERT OR UPDATE OR DELETE ON buddies
    FOR EACH ROW EXECUTE FUNCTION note_matching_change('id');
CREATE TRIGGER pairings_note_matching AFTER INSERT OR UPDATE OR DELETE ON pairings
    FOR EACH ROW EXECUTE FUNCTION note_matching_change('buddy_id');
