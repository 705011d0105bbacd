CREATE TABLE "dnc_entries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid,
	"list" text NOT NULL,
	"scope" text NOT NULL,
	"phone" text NOT NULL,
	"registered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dnc_entries_tenant_list_phone_uq" UNIQUE NULLS NOT DISTINCT("tenant_id","list","phone")
);
--> statement-breakpoint
CREATE TABLE "send_decisions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"idempotency_key" text NOT NULL,
	"contact_id" uuid NOT NULL,
	"conversation_id" uuid,
	"purpose" text NOT NULL,
	"send_purpose" text NOT NULL,
	"business_initiated" boolean NOT NULL,
	"decision" text NOT NULL,
	"hold_until" timestamp with time zone,
	"reason" text,
	"checks" jsonb NOT NULL,
	"rules_version" text NOT NULL,
	"holds" integer DEFAULT 0 NOT NULL,
	"sent_by" text NOT NULL,
	"agent_id" uuid,
	"campaign_id" uuid,
	"campaign_target_id" uuid,
	"promise_id" uuid,
	"correlation_id" text NOT NULL,
	"price" text,
	"price_unit" text,
	"decided_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "send_decisions_idempotency_key_unique" UNIQUE("idempotency_key")
);
--> statement-breakpoint
CREATE TABLE "tenant_policies" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"collection_hours" text,
	"marketing_hours" text,
	"utility_hours" text,
	"max_per_day" integer,
	"max_per_week" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "dnc_entries" ADD CONSTRAINT "dnc_entries_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "send_decisions" ADD CONSTRAINT "send_decisions_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tenant_policies" ADD CONSTRAINT "tenant_policies_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "dnc_entries_phone_idx" ON "dnc_entries" USING btree ("phone");--> statement-breakpoint
CREATE INDEX "send_decisions_cap_idx" ON "send_decisions" USING btree ("contact_id","decided_at") WHERE decision = 'send' and business_initiated and purpose in ('collection', 'marketing');--> statement-breakpoint
CREATE INDEX "send_decisions_tenant_decided_idx" ON "send_decisions" USING btree ("tenant_id","decided_at");