-- LiteLLM lets several teams share an alias (its own tests create ten at once);
-- /team/list?team_alias= finds them all, so the alias keeps a plain index.
DROP INDEX "tandem_team_team_alias_key";
CREATE INDEX "tandem_team_team_alias_idx" ON "tandem_team"("team_alias");
