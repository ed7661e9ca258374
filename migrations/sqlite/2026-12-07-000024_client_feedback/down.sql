ALTER TABLE buddy_requests DROP COLUMN feedback_invited;
DROP TABLE client_feedback;
DROP TABLE client_feedback_invitations;
