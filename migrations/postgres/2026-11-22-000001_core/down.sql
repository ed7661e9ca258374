DROP TABLE history;
DROP TABLE pairings;
DROP TABLE buddy_requests;
DROP TABLE exit_interviews;
DROP TABLE buddies;
DROP TABLE organisations;
