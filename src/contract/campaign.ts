import type { TraceContext } from './common';
import type { CampaignStatus } from './statuses';
export type { CampaignStatus, TargetState } from './statuses';

export interface CampaignInput {
  campaignId: string;
  tenantId: string;
  tenantSlug: string;
  /** The trace of the command that started it; sends are spans of the campaign's own trace. */
  trace: TraceContext;
  /** Control state carried across continue-as-new (settings and counters live in Postgres). */
  carried?: CampaignCarry;
}

export interface CampaignCarry {
  paused: boolean;
  runs: number;
  batches: number;
  sent: number;
}

export interface CampaignCounters {
  total: number;
  contacted: number;
  successful: number;
  failed: number;
  optedOut: number;
  skipped: number;
  promisesMade: number;
  promisesFulfilled: number;
  promisesBroken: number;
  /** Targets still pending, scheduled or awaiting their delivery outcome. */
  open: number;
}

export interface CampaignProgress {
  campaignId: string;
  status: CampaignStatus;
  paused: boolean;
  /** Send batches running now (bounded: at most two, the current second and the next). */
  inFlight: number;
  /** Epoch ms of the next durable wake-up when nothing is due (active hours, retry spacing), else null. */
  nextWakeAt: number | null;
  run: number;
  batchesThisRun: number;
  sentThisCampaign: number;
  counters: CampaignCounters | null;
}

export interface ControlArgs {
  /** `user:<id>` or `cli:<user>`: who paused, resumed or cancelled (recorded in the event). */
  actor: string;
  reason?: string;
}

/** A target handed to a send batch: send attempt `attempt` at `slotAt` (epoch ms, granted by the sender's pacer). */
export interface ClaimedTarget {
  targetId: string;
  attempt: number;
  slotAt: number;
}

export interface AcquireSlotsArgs {
  count: number;
  /** Minimum spacing between two sends of this sender (1000 / messages per second). */
  intervalMs: number;
  /** Who asks (for the pacer's query): `campaign:<id>`. */
  requester: string;
}

export interface PacerInput {
  tenantSlug: string;
  carried?: { nextFreeAt: number; granted: number };
}

export interface PromiseInput {
  promiseId: string;
  tenantId: string;
  trace: TraceContext;
  dueAt: number;
  reminderAt: number | null;
  checkAt: number;
}
