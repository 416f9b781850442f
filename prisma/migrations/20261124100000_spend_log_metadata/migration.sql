-- Spend rows say how their usage was known: e.g. {"usage_estimated": true} for a
-- stream cut short before the upstream reported usage (counted with a tokenizer).
ALTER TABLE "tandem_spend_logs" ADD COLUMN "metadata" JSONB NOT NULL DEFAULT '{}';
