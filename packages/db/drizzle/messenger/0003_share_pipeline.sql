CREATE TABLE "account_restrictions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"action" text NOT NULL,
	"reason" text NOT NULL,
	"source" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "regime_changes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"regime" jsonb NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "share_outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"event_id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"account_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"shipped_at" timestamp with time zone,
	CONSTRAINT "share_outbox_eventId_unique" UNIQUE("event_id")
);
--> statement-breakpoint
CREATE TABLE "usage_counters" (
	"account_id" uuid PRIMARY KEY NOT NULL,
	"messages_total" bigint DEFAULT 0 NOT NULL,
	"active_days" integer DEFAULT 0 NOT NULL,
	"day" date NOT NULL,
	"messages_today" integer DEFAULT 0 NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "account_restrictions_account_id_id_index" ON "account_restrictions" USING btree ("account_id","id");--> statement-breakpoint
CREATE INDEX "share_outbox_pending_index" ON "share_outbox" USING btree ("id") WHERE "share_outbox"."shipped_at" is null;