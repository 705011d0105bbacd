// @ts-check
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

// One data layer (issue 14): only src/db talks to Postgres. Everything else calls a function from src/db named for
// what it does; table objects from src/db/schema may be imported as types only (no query can be built without them).
const DATA_LAYER_PACKAGES = ['drizzle-orm', 'drizzle-orm/*', 'postgres', '@electric-sql/*'];
const dataLayerPatterns = [
  {
    group: DATA_LAYER_PACKAGES,
    message: 'Only src/db talks to Postgres: put the query in src/db as a function named for what it does.',
  },
  {
    group: ['**/db/schema', '**/db/schema/*'],
    allowTypeImports: true,
    message: 'Tables are for src/db: call a query function from src/db (types from the schema are fine).',
  },
];

const EMBEDDED_POSTGRES = ['src/local/embedded-postgres.ts', 'src/local/pglite-server.ts'];

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O clients. It includes the data
// layer's packages, so the workflow block below forbids a superset of what the data-layer block forbids.
const infrastructure = [
  ...DATA_LAYER_PACKAGES,
  'twilio',
  'openai',
  'pino',
  '@temporalio/client',
  '@temporalio/worker',
  '@temporalio/activity',
  'hono',
  'hono/*',
  '@hono/*',
];

export default tseslint.config(
  // src/api/console/static: browser assets served as they are (no build step, no Node types).
  { ignores: ['node_modules/', '.data/', 'dist/', 'drizzle/', 'scratch/', 'src/api/console/static/'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['eslint.config.js', 'bin/*.js', 'scripts/*.mjs', 'src/temporal/*.cjs'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read configuration through src/config/env.ts only.',
        },
      ],
    },
  },
  {
    // Tests read JSON responses of arbitrary shape; the assertions are the type check there.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // The house's shape (issue 19; docs/architecture.md, "Layers"). No import circle: ESM evaluates a circle's
    // modules in an order that depends on which one is imported first (a value read before it is defined). This rule
    // sees value imports; src/dev/import-graph.ts (`npm run lint` runs it after ESLint) sees type imports and layers.
    // Nothing outside src/workflows imports workflow code: clients start workflows by the names and signatures in
    // src/contract/workflow-types.ts, and the worker alone loads the folder, by path (worker.ts: WORKFLOWS_PATH).
    files: ['src/**/*.{ts,tsx}', 'worker.ts'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver': undefined,
      'import-x/resolver-next': [createTypeScriptImportResolver()],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: ['./src/!(workflows)/**/*', './src/*.{ts,tsx}'],
              from: './src/workflows',
              except: [],
              message:
                'Outside src/workflows, name a workflow by src/contract/workflow-types.ts (the worker loads it by path).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/config/env.ts', 'bin/*.js', 'eslint.config.js'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // The data layer's boundary, for the service's code, bin/, worker.ts and scripts/ (tooling: none of it needs the
    // database; scripts/patch-postgres.mjs only resolves the package's path to patch it, it imports nothing).
    // Not for test/: tests assert on what is stored with their own queries, independently of the functions under
    // test (checking src/db's writes through src/db's reads would prove little). Not for bench/: a harness like the
    // tests, measuring the service from outside (it creates and drops its scratch databases, reads result rows).
    // Not for src/workflows/: its own block below forbids these and more. ESLint flat config gives a file matched by
    // two blocks the later block's options for the same rule (they replace, they do not add up), so the two blocks
    // never match the same file: test/unit/lint-boundaries.test.ts checks both keep working.
    files: ['**/*.{ts,js,mjs,cjs}'],
    ignores: ['src/db/**', 'test/**', 'bench/**', 'src/workflows/**', ...EMBEDDED_POSTGRES],
    rules: { 'no-restricted-imports': ['error', { patterns: dataLayerPatterns }] },
  },
  {
    // Embedded Postgres is a database server that runs beside the service locally (src/local), not a query: these
    // two files start PGlite and serve it on a socket; they still may not query it (no drizzle, postgres or tables).
    files: EMBEDDED_POSTGRES,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { ...dataLayerPatterns[0], group: DATA_LAYER_PACKAGES.filter((p) => !p.startsWith('@electric-sql')) },
            dataLayerPatterns[1],
          ],
        },
      ],
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'node:*',
                'fs',
                'path',
                'crypto',
                'http',
                'https',
                'net',
                'os',
                'child_process',
                'worker_threads',
              ],
              message: 'Workflow code must stay deterministic: no Node built-ins.',
            },
            { group: infrastructure, message: 'Workflow code must not touch I/O clients; call an activity.' },
            {
              group: ['**/db/*', '**/activities/*', '**/api/*', '**/config/*'],
              allowTypeImports: true,
              message: 'Import infrastructure modules as types only.',
            },
          ],
        },
      ],
    },
  },
);
