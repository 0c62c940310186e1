-- AlterTable
ALTER TABLE "audit_events" ADD COLUMN     "client_id" TEXT,
ADD COLUMN     "ip" TEXT,
ADD COLUMN     "request_id" TEXT,
ADD COLUMN     "user_agent" TEXT,
ADD COLUMN     "user_id" TEXT;

-- AlterTable
ALTER TABLE "signing_keys" ADD COLUMN     "revoked_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "audit_events_user_id_at_idx" ON "audit_events"("user_id", "at");

-- CreateIndex
CREATE INDEX "audit_events_client_id_at_idx" ON "audit_events"("client_id", "at");

-- CreateIndex
CREATE INDEX "audit_events_action_at_idx" ON "audit_events"("action", "at");
