-- A secret per database that signs the opaque tokens the REST API hands out (a log's continuation
-- token, a DAG file's file_token), so that every process serving this database (the daemon, a
-- separate `webserver`) takes back the tokens of the others, and a client cannot make its own.
-- SQLite's randomblob() draws from the operating system's random source.
CREATE TABLE api_signing_key (
    purpose TEXT PRIMARY KEY,
    key_hex TEXT NOT NULL
);
INSERT INTO api_signing_key (purpose, key_hex) VALUES ('api_tokens', lower(hex(randomblob(32))));
