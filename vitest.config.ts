import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Files that load the Temporal worker (native bridge, webpack bundling) run in child processes.
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    // The secrets keyring the db layer seals auth tokens with (src/secrets/keyring.ts).
    setupFiles: ['test/setup-secrets.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    reporters: ['default'],
  },
});
