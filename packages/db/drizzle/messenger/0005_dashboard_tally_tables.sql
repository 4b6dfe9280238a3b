CREATE TABLE "account_tallies" (
	"slot" smallint NOT NULL,
	"country" text NOT NULL,
	"kind" text NOT NULL,
	"accounts" bigint NOT NULL,
	CONSTRAINT "account_tallies_slot_country_kind_pk" PRIMARY KEY("slot","country","kind")
);
--> statement-breakpoint
CREATE TABLE "shard_tallies" (
	"shard" integer PRIMARY KEY NOT NULL,
	"accounts" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tallies" (
	"name" text NOT NULL,
	"slot" smallint NOT NULL,
	"n" bigint NOT NULL,
	CONSTRAINT "tallies_name_slot_pk" PRIMARY KEY("name","slot")
);
