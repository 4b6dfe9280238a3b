CREATE TABLE "ingest_watermarks" (
	"whatsapp_account_id" uuid PRIMARY KEY NOT NULL,
	"sequence" bigint NOT NULL,
	"event_id" uuid NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- The newest event already received per account: an older one must not apply after this migration either.
INSERT INTO "ingest_watermarks" ("whatsapp_account_id", "sequence", "event_id")
  SELECT DISTINCT ON ("whatsapp_account_id") "whatsapp_account_id", "sequence", "event_id"
  FROM "ingested_events" ORDER BY "whatsapp_account_id", "sequence" DESC;
--> statement-breakpoint
ALTER TABLE "spam_signals" ADD COLUMN "refused_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "spam_signals" ADD COLUMN "refusal" text;--> statement-breakpoint
CREATE INDEX "spam_signals_pending_index" ON "spam_signals" USING btree ("id") WHERE "spam_signals"."delivered_at" is null and "spam_signals"."refused_at" is null;