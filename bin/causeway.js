#!/usr/bin/env node
// `npx causeway …`: loads the TypeScript CLI through tsx's ESM loader (no build step to forget).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
