import { defineConfig } from 'vitest/config';

// Two projects: `unit` starts no services and runs in seconds (`npm run test:unit`); `services` (integration, e2e,
// cluster) gets a real Temporal dev server and a real Postgres database from its global setup. `npm test` runs both.
export default defineConfig({
  test: {
    // Files that load the Temporal worker (native bridge, webpack bundling) run in child processes.
    pool: 'forks',
    // The secrets keyring the db layer seals auth tokens with (src/secrets/keyring.ts).
    setupFiles: ['test/setup-secrets.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        // One module cache per worker across the unit files (isolate: false): they test plain functions, mock no
        // module and stub no global, and loading zod, pino, twilio… once instead of per file halves the CPU time of
        // `npm run test:unit` (issue 19 D). A unit test that needs a fresh module graph belongs in `services`.
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], isolate: false },
      },
      {
        extends: true,
        test: {
          name: 'services',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/cluster/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
        },
      },
    ],
  },
});
