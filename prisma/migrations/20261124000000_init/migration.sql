-- CreateTable
CREATE TABLE "tandem_team" (
    "team_id" TEXT NOT NULL,
    "team_alias" TEXT NOT NULL,
    "models" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "max_budget" DOUBLE PRECISION,
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "tandem_team_pkey" PRIMARY KEY ("team_id")
);

-- CreateTable
CREATE TABLE "tandem_verification_token" (
    "token" TEXT NOT NULL,
    "key_name" TEXT NOT NULL,
    "key_alias" TEXT,
    "models" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "max_budget" DOUBLE PRECISION,
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "team_id" TEXT,
    "metadata" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires" TIMESTAMPTZ(3),

    CONSTRAINT "tandem_verification_token_pkey" PRIMARY KEY ("token")
);

-- CreateTable
CREATE TABLE "tandem_spend_logs" (
    "request_id" TEXT NOT NULL,
    "api_key" TEXT NOT NULL,
    "team_id" TEXT,
    "model" TEXT NOT NULL,
    "prompt_tokens" INTEGER NOT NULL DEFAULT 0,
    "completion_tokens" INTEGER NOT NULL DEFAULT 0,
    "total_tokens" INTEGER NOT NULL DEFAULT 0,
    "spend" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "start_time" TIMESTAMPTZ(3) NOT NULL,
    "end_time" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "tandem_spend_logs_pkey" PRIMARY KEY ("request_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "tandem_team_team_alias_key" ON "tandem_team"("team_alias");

-- CreateIndex
CREATE UNIQUE INDEX "tandem_verification_token_key_alias_key" ON "tandem_verification_token"("key_alias");

-- CreateIndex
CREATE INDEX "tandem_verification_token_team_id_idx" ON "tandem_verification_token"("team_id");

-- CreateIndex
CREATE INDEX "tandem_spend_logs_api_key_idx" ON "tandem_spend_logs"("api_key");

-- CreateIndex
CREATE INDEX "tandem_spend_logs_team_id_idx" ON "tandem_spend_logs"("team_id");

-- CreateIndex
CREATE INDEX "tandem_spend_logs_start_time_idx" ON "tandem_spend_logs"("start_time");

-- AddForeignKey
ALTER TABLE "tandem_verification_token" ADD CONSTRAINT "tandem_verification_token_team_id_fkey" FOREIGN KEY ("team_id") REFERENCES "tandem_team"("team_id") ON DELETE SET NULL ON UPDATE CASCADE;
