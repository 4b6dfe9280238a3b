CREATE TABLE "regulatory_dates" (
	"at" timestamp with time zone NOT NULL,
	"scope" text NOT NULL,
	"cursor" uuid NOT NULL,
	"done" boolean DEFAULT false NOT NULL,
	CONSTRAINT "regulatory_dates_at_scope_pk" PRIMARY KEY("at","scope")
);
