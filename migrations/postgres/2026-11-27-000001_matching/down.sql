DROP TRIGGER pairings_move_matching ON pairings;
DROP TRIGGER buddies_move_matching ON buddies;
DROP FUNCTION move_matching_version();
DROP TABLE matching_version;
