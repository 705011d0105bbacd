// @ts-check
import tseslint from 'typescript-eslint';

// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no I/O clients.
const infrastructure = [
  'twilio',
  'openai',
  'postgres',
  'pino',
  'drizzle-orm',
  'drizzle-orm/*',
  '@electric-sql/*',
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
    files: ['src/config/env.ts', 'bin/*.js', 'eslint.config.js'],
    rules: { 'no-restricted-syntax': 'off' },
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
