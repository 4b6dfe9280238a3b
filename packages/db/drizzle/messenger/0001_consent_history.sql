CREATE TABLE "consent_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"policy_version" text NOT NULL,
	"share_with_facebook" boolean,
	"method" text,
	"business_account_id" uuid,
	"at" timestamp with time zone NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "simulation_clock" (
	"id" smallint PRIMARY KEY DEFAULT 1 NOT NULL,
	"sim_ms" bigint NOT NULL,
	"real_ms" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "consent_events_account_id_id_index" ON "consent_events" USING btree ("account_id","id");