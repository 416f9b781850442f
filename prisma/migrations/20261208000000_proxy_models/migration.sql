-- Models kept in the database (LiteLLM's ProxyModelTable, general_settings.store_model_in_db): what
-- /model/new adds beside the config file's model_list. Upstream secrets in litellm_params are sealed
-- (AES-256-GCM under LITELLM_SALT_KEY, else the master key) before they are written. A new table:
-- a pod of the previous release never reads it and keeps working during a rolling upgrade.
CREATE TABLE "tandem_proxy_model" (
    "model_id" TEXT NOT NULL,
    "model_name" TEXT NOT NULL,
    "litellm_params" JSONB NOT NULL,
    "model_info" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "created_by" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "updated_by" TEXT NOT NULL,

    CONSTRAINT "tandem_proxy_model_pkey" PRIMARY KEY ("model_id")
);
