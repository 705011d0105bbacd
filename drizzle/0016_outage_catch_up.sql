CREATE TABLE "reconcile_watermarks" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"listed_until" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "redelivery_inbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"tenant_id" uuid NOT NULL,
	"input" jsonb NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"drained_at" timestamp with time zone,
	CONSTRAINT "redelivery_inbox_key_unique" UNIQUE("key")
);
--> statement-breakpoint
ALTER TABLE "reconcile_watermarks" ADD CONSTRAINT "reconcile_watermarks_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "redelivery_inbox" ADD CONSTRAINT "redelivery_inbox_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "redelivery_inbox_pending_idx" ON "redelivery_inbox" USING btree ("created_at") WHERE state = 'pending';