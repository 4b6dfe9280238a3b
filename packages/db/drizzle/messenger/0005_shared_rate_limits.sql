CREATE TABLE "rate_limit_buckets" (
	"id" text PRIMARY KEY NOT NULL,
	"tokens" double precision NOT NULL,
	"updated_ms" double precision NOT NULL,
	"full_ms" double precision NOT NULL,
	"allowed" boolean NOT NULL
);
