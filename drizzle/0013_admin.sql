ALTER TABLE "prompt_versions" ADD COLUMN "activated_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "prompt_versions" ADD COLUMN "activated_by" text;