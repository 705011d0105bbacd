import type { Workflows } from '../contract/workflow-types';
import type * as registered from './index';

// Clients start workflows by the names and signatures in src/contract/workflow-types.ts, never by importing this folder.
// These two checks keep that table true: every function the worker registers is in it, with the same signature.
type Assert<T extends true> = T;
export type _EveryWorkflowIsInTheContract = Assert<keyof typeof registered extends keyof Workflows ? true : false>;
export type _SignaturesMatchTheContract = Assert<typeof registered extends Workflows ? true : false>;
