CREATE TABLE "advertiser_api_refusals" (
	"minute" timestamp with time zone NOT NULL,
	"path" text NOT NULL,
	"code" text NOT NULL,
	"caller" text NOT NULL,
	"refusals" bigint NOT NULL,
	CONSTRAINT "advertiser_api_refusals_minute_path_code_caller_pk" PRIMARY KEY("minute","path","code","caller")
);
