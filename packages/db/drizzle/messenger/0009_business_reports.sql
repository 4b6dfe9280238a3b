CREATE TABLE "business_reports" (
	"reporter_account_id" uuid NOT NULL,
	"business_account_id" uuid NOT NULL,
	"message_id" uuid NOT NULL,
	"declared_category" text NOT NULL,
	"reported_at" timestamp with time zone NOT NULL,
	CONSTRAINT "business_reports_reporter_account_id_business_account_id_message_id_pk" PRIMARY KEY("reporter_account_id","business_account_id","message_id")
);
--> statement-breakpoint
ALTER TABLE "accepted_messages" ADD COLUMN "category" text;--> statement-breakpoint
CREATE INDEX "business_reports_business_account_id_index" ON "business_reports" USING btree ("business_account_id");