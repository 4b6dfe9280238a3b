CREATE TABLE "withdrawal_losses" (
	"day" date NOT NULL,
	"country" text NOT NULL,
	"linked_by" text NOT NULL,
	"links" integer DEFAULT 0 NOT NULL,
	"audience_memberships" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "withdrawal_losses_day_country_linked_by_pk" PRIMARY KEY("day","country","linked_by")
);
--> statement-breakpoint
DROP INDEX "profiles_phone_number_index";--> statement-breakpoint
ALTER TABLE "address_book_entries" ADD COLUMN "contact_name" text;--> statement-breakpoint
ALTER TABLE "links" ADD COLUMN "linked_by" text DEFAULT 'phone' NOT NULL;--> statement-breakpoint
CREATE INDEX "profiles_phone_number_id_index" ON "profiles" USING btree ("phone_number","id");--> statement-breakpoint
CREATE INDEX "profiles_country_name_index" ON "profiles" USING btree ("country","name");--> statement-breakpoint
CREATE INDEX "shared_data_phone_index" ON "shared_data" USING btree (("value" #>> '{}')) WHERE "shared_data"."field" = 'phoneNumber';