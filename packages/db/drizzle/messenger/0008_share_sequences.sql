CREATE TABLE "share_sequences" (
	"account_id" uuid PRIMARY KEY NOT NULL,
	"sequence" bigint NOT NULL
);
--> statement-breakpoint
DROP INDEX "share_outbox_account_id_index";--> statement-breakpoint
ALTER TABLE "share_outbox" ADD COLUMN "sequence" bigint;--> statement-breakpoint
-- Events written before per-account sequences keep their outbox id: it is what Facebook
-- already ordered them by, and every later sequence of the account continues above it.
UPDATE "share_outbox" SET "sequence" = "id";--> statement-breakpoint
ALTER TABLE "share_outbox" ALTER COLUMN "sequence" SET NOT NULL;--> statement-breakpoint
INSERT INTO "share_sequences" ("account_id", "sequence")
  SELECT "account_id", max("sequence") FROM "share_outbox" GROUP BY "account_id";--> statement-breakpoint
CREATE UNIQUE INDEX "share_outbox_account_id_sequence_index" ON "share_outbox" USING btree ("account_id","sequence");
