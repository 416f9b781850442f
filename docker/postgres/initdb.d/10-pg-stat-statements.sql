-- Runs once, on the primary, when its data directory is created (the replica copies it).
-- Lets `SELECT ... FROM pg_stat_statements` show which statements ran on which server.
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
