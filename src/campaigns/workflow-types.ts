// Type-only view of the workflow module, so clients get typed starts without importing workflow code at run time.
export type * as workflowsModule from '../workflows/index';
