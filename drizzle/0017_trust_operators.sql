CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"actor_type" text NOT NULL,
	"actor_user_id" uuid,
	"actor_key_id" uuid,
	"actor_label" text,
	"role" text,
	"via" text NOT NULL,
	"action" text NOT NULL,
	"target_type" text,
	"target_id" text,
	"request_id" text,
	"outcome" text NOT NULL,
	"status" integer,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "operator_sessions" ADD COLUMN "api_key_id" uuid;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "ai_max_turns_per_hour" integer;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "ai_max_tokens_per_day" bigint;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "promise_max_days_ahead" integer;--> statement-breakpoint
ALTER TABLE "tenants" ADD COLUMN "retention_days" integer;--> statement-breakpoint
CREATE INDEX "audit_log_tenant_time_idx" ON "audit_log" USING btree ("tenant_id","occurred_at");--> statement-breakpoint
CREATE INDEX "audit_log_actor_time_idx" ON "audit_log" USING btree ("actor_user_id","occurred_at");--> statement-breakpoint
ALTER TABLE "operator_sessions" ADD CONSTRAINT "operator_sessions_api_key_id_api_keys_id_fk" FOREIGN KEY ("api_key_id") REFERENCES "public"."api_keys"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "ai_results_tenant_created_idx" ON "ai_results" USING btree ("tenant_id","created_at");--> statement-breakpoint
-- Issue 18 G: audit_log is append-only. UPDATE and TRUNCATE are always refused; DELETE only inside a transaction
-- that set causeway.audit_retention = 'on' (the retention purge, src/db/audit.ts). This guards against application
-- bugs and ad-hoc statements; against a hostile holder of the application's role, REVOKE UPDATE, DELETE, TRUNCATE
-- on audit_log from that role and run the purge as another one (docs/audit.md).
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('causeway.audit_retention', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = '42501';
END
$$;--> statement-breakpoint
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
