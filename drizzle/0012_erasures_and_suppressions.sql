CREATE TABLE "contact_suppressions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"phone_hash" text NOT NULL,
	"reason" text NOT NULL,
	"opted_out_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "erasures" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"contact_hash" text NOT NULL,
	"workflow_id" text NOT NULL,
	"run_id" text NOT NULL,
	"requested_by" text NOT NULL,
	"reason" text NOT NULL,
	"status" text DEFAULT 'running' NOT NULL,
	"counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"workflows_terminated" integer DEFAULT 0 NOT NULL,
	"histories_deleted" integer DEFAULT 0 NOT NULL,
	"targets" jsonb,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone,
	CONSTRAINT "erasures_run_id_unique" UNIQUE("run_id")
);
--> statement-breakpoint
ALTER TABLE "contact_suppressions" ADD CONSTRAINT "contact_suppressions_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "erasures" ADD CONSTRAINT "erasures_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "contact_suppressions_tenant_hash_uq" ON "contact_suppressions" USING btree ("tenant_id","phone_hash");--> statement-breakpoint
CREATE INDEX "erasures_tenant_hash_idx" ON "erasures" USING btree ("tenant_id","contact_hash");--> statement-breakpoint
CREATE INDEX "ai_results_retention_idx" ON "ai_results" USING btree ("created_at") WHERE output is not null or error is not null;--> statement-breakpoint
CREATE INDEX "messages_retention_idx" ON "messages" USING btree ("created_at") WHERE body <> '' or media <> '[]'::jsonb;