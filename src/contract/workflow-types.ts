import type { CampaignCounters, CampaignInput, CampaignStatus, PacerInput, PromiseInput } from './campaign';
import type { ConversationInput } from './conversation';
import type { InboundInput, InboundResult, Redelivery, StatusCallbackInput } from './ingress';
import type {
  ErasureInput,
  ErasureSummary,
  ReconcileInput,
  ReconcileResult,
  RetentionInput,
  RetentionResult,
} from './jobs';
import type { OutreachInput, OutreachResult } from './outreach';
import type { ConversationStatus } from './statuses';

// Each workflow type's name and signature, for the code that starts, signals or schedules it (the API, the CLI,
// activities, src/temporal). None of them imports workflow code: the worker alone loads src/workflows by path, and
// src/workflows/signatures.ts makes the compiler check the functions there against this table.

export interface CampaignResult {
  status: CampaignStatus;
  counters: CampaignCounters | null;
  runs: number;
}

export interface ConversationResult {
  conversationId: string;
  status: ConversationStatus;
  npsScore: number | null;
}

export interface InboxDrainResult {
  drained: number;
  failed: number;
  temporalUnavailable: boolean;
  /** Issue 21 D: the inbound watchdog's run after the drain (null: it could not run; absent: runs before it). */
  watchdog?: { withoutOutcome: number; raised: number } | null;
}

/** Workflow type name → signature; the names are those the worker registers (the exports of src/workflows/index.ts). */
export interface Workflows {
  inboundWorkflow: (input: InboundInput) => Promise<InboundResult>;
  conversationWorkflow: (input: ConversationInput) => Promise<ConversationResult>;
  campaignWorkflow: (input: CampaignInput) => Promise<CampaignResult>;
  pacerWorkflow: (input: PacerInput) => Promise<void>;
  promiseWorkflow: (input: PromiseInput) => Promise<{ status: string }>;
  reconcileWorkflow: (input: ReconcileInput) => Promise<ReconcileResult>;
  inboxDrainWorkflow: () => Promise<InboxDrainResult>;
  statusCallbackWorkflow: (input: StatusCallbackInput) => Promise<{ outcome: string }>;
  redeliveryWorkflow: (input: Redelivery) => Promise<{ outcome: string }>;
  erasureWorkflow: (input: ErasureInput) => Promise<ErasureSummary>;
  retentionWorkflow: (input: RetentionInput) => Promise<RetentionResult>;
  outreachWorkflow: (input: OutreachInput) => Promise<OutreachResult>;
}

export type WorkflowType = keyof Workflows;

/**
 * Issue 25 A: the patches a starter of this build knows its run takes. A run started with them (its input's
 * `builtInPatches`) takes their new paths without recording their markers: each marker costs two history events
 * (the marker and Core's `TemporalChangeVersion` upsert) and a visibility write, on every inbound message and
 * every new conversation. Runs started without the list (older starters, continue-as-new of older runs, the
 * committed fixtures) still call `patched()` as before. src/workflows/patches.ts has the replay argument.
 */
export const BUILT_IN_PATCHES = {
  inboundWorkflow: ['inbound-one-local-step'],
  conversationWorkflow: [
    'conversation-local-steps',
    'lean-ai-activity',
    'start-status-not-repeated',
    'send-advances-conversation',
    'inbound-opens-conversation',
    'lazy-deadline-timer',
  ],
} as const satisfies Partial<Record<WorkflowType, readonly string[]>>;

/** The names as values, so a start cannot misspell one: `client.workflow.start<Workflows['x']>(workflowType.x, …)`. */
export const workflowType = {
  inboundWorkflow: 'inboundWorkflow',
  conversationWorkflow: 'conversationWorkflow',
  campaignWorkflow: 'campaignWorkflow',
  pacerWorkflow: 'pacerWorkflow',
  promiseWorkflow: 'promiseWorkflow',
  reconcileWorkflow: 'reconcileWorkflow',
  inboxDrainWorkflow: 'inboxDrainWorkflow',
  statusCallbackWorkflow: 'statusCallbackWorkflow',
  redeliveryWorkflow: 'redeliveryWorkflow',
  erasureWorkflow: 'erasureWorkflow',
  retentionWorkflow: 'retentionWorkflow',
  outreachWorkflow: 'outreachWorkflow',
} as const satisfies { [K in WorkflowType]: K };
