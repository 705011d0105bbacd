import os from 'node:os';
import { recordAudit, type AuditOutcome } from '../db/operators/audit';
import type { DbOrTx } from '../db/core/client';

/** Who ran a CLI command: the OS account (the CLI has no operator identity; whoever has the shell has the database). */
export function cliActor(): string {
  let name = 'unknown';
  try {
    name = os.userInfo().username || name;
  } catch {
    // No passwd entry (some containers): the uid still says something.
    name = `uid-${process.getuid?.() ?? 'unknown'}`;
  }
  return `cli:${name}`;
}

/** Issue 18 G: one audit record for an admin action taken from the CLI (ids and enums only, never a phone or text). */
export async function recordCliAudit(
  db: DbOrTx,
  entry: {
    tenantId: string;
    action: string;
    targetType?: string | null;
    targetId?: string | null;
    outcome?: AuditOutcome;
    details?: Record<string, unknown>;
  },
): Promise<void> {
  await recordAudit(db, {
    tenantId: entry.tenantId,
    actorType: 'cli',
    actorLabel: cliActor(),
    via: 'cli',
    action: entry.action,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    outcome: entry.outcome ?? 'ok',
    details: entry.details ?? {},
  });
}
