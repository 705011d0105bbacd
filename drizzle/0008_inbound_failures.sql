CREATE TABLE "inbound_failures" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"message_sid" text NOT NULL,
	"stage" text NOT NULL,
	"failure_type" text NOT NULL,
	"reason" text NOT NULL,
	"message_id" uuid,
	"input" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inbound_failures_message_sid_unique" UNIQUE("message_sid")
);
