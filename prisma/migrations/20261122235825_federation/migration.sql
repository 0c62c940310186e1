-- AlterTable
ALTER TABLE "one_time_tokens" ADD COLUMN     "payload" JSONB;

-- AlterTable
ALTER TABLE "users" ADD COLUMN     "picture" TEXT;

-- CreateTable
CREATE TABLE "federated_identities" (
    "provider" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "email" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),

    CONSTRAINT "federated_identities_pkey" PRIMARY KEY ("provider","subject")
);

-- CreateIndex
CREATE INDEX "federated_identities_user_id_idx" ON "federated_identities"("user_id");

-- AddForeignKey
ALTER TABLE "federated_identities" ADD CONSTRAINT "federated_identities_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;
