ALTER TABLE "spam_signals" ADD COLUMN "refused_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "spam_signals" ADD COLUMN "refusal" text;--> statement-breakpoint
CREATE INDEX "spam_signals_pending_index" ON "spam_signals" USING btree ("id") WHERE "spam_signals"."delivered_at" is null and "spam_signals"."refused_at" is null;