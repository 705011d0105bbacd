import { defineConfig } from 'drizzle-kit';

// Only `drizzle-kit generate` uses this file (no database connection needed); migrations are applied by
// `causeway db migrate` and at service start through src/db/core/migrate.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './drizzle',
  casing: 'snake_case',
});
