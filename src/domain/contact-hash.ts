import { createHmac, randomBytes } from 'node:crypto';

/**
 * Keyed hash of a phone number. The key is the tenant's secret, so a workflow id or log line that carries the
 * hash cannot be turned back into a phone number by hashing all possible numbers.
 */
export function contactHash(tenantHashKey: string, phone: string): string {
  return createHmac('sha256', tenantHashKey).update(phone).digest('hex').slice(0, 20);
}

export function newHashKey(): string {
  return randomBytes(32).toString('hex');
}
