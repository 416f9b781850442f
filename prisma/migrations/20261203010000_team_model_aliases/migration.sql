-- LiteLLM's team model_aliases: {"cheap-model": "gpt-3.5-turbo"} for every key of the team.
ALTER TABLE "tandem_team" ADD COLUMN "model_aliases" JSONB NOT NULL DEFAULT '{}';
