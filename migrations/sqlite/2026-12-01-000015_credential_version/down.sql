DROP TABLE credential_version;
