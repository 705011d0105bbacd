import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { z } from 'zod';
import { CONVERSATION_STATUSES } from '../contract/statuses';
import type { Database } from '../db/core/client';
import { tenantHashKey } from '../db/ingress/inbound';
import { searchConversations, type ConversationSearch, type SearchRow } from '../db/conversations/search';
import type { Operator } from '../db/operators/users';
import { hasRole } from '../domain/api-keys';
import { contactHash } from '../domain/contact-hash';
import { decodeCursor, encodeCursor, maskPhone } from '../domain/desk-tools';
import { ApiError } from './errors';

const instant = z
  .string()
  .max(40)
  .refine((s) => /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(s) && !Number.isNaN(Date.parse(s)), {
    message: 'expected a date (2026-12-01) or an ISO instant (2026-12-01T12:00:00Z)',
  })
  .transform((s) => new Date(s));

/** GET /api/conversations and the console's search: every filter optional; an empty value counts as absent. */
export const searchQuery = z.object({
  q: z.string().trim().max(200).optional(),
  phone: z
    .string()
    .trim()
    .regex(/^(\+[1-9]\d{6,14}|[0-9a-f]{20})$/, 'phone must be an E.164 number (+5511…) or a contact hash')
    .optional(),
  status: z.enum(CONVERSATION_STATUSES).optional(),
  department: z.string().trim().min(1).max(40).optional(),
  from: instant.optional(),
  to: instant.optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type SearchQuery = z.infer<typeof searchQuery>;

/** Parses query parameters (blank ones dropped); bad input → 400 with the field errors. */
export function parseSearchQuery(raw: Record<string, string>): SearchQuery {
  const present = Object.fromEntries(Object.entries(raw).filter(([, v]) => v.trim() !== ''));
  const parsed = searchQuery.safeParse(present);
  if (!parsed.success)
    throw new ApiError('bad_request', 'invalid query', {
      details: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  return parsed.data;
}

/** The query as the database takes it: a phone number becomes the contact's keyed hash (its indexed column). */
export async function toSearch(db: Database, operator: Operator, query: SearchQuery): Promise<ConversationSearch> {
  let phoneHash: string | undefined;
  if (query.phone) {
    if (query.phone.startsWith('+')) {
      const key = await tenantHashKey(db, operator.tenantId);
      if (!key) throw new ApiError('not_found', 'no such tenant');
      phoneHash = contactHash(key, query.phone);
    } else phoneHash = query.phone;
  }
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  if (after === null) throw new ApiError('bad_request', 'invalid cursor');
  return {
    q: query.q,
    phoneHash,
    status: query.status,
    department: query.department,
    from: query.from,
    to: query.to,
    after,
    limit: query.limit,
  };
}

/** One page of results and the cursor of the next (null: last page). */
export async function searchPage(db: Database, operator: Operator, query: SearchQuery) {
  const { rows, more } = await searchConversations(db, operator, await toSearch(db, operator, query));
  const last = rows.at(-1);
  return { conversations: rows, nextCursor: more && last ? encodeCursor(last) : null };
}

const EXPORT_PAGE = 500;
/** At most this many rows per export: a bigger one is refused by narrowing the search (dates, department). */
export const EXPORT_MAX_ROWS = 100_000;

/** A cell a spreadsheet would run as a formula (=, +, -, @ first) gets a leading quote (OWASP CSV injection). */
const safeText = (s: string | null) => (s && /^[=+\-@\t\r]/.test(s) ? `'${s}` : (s ?? ''));
const iso = (d: Date | null) => (d ? d.toISOString() : '');

/**
 * The search as CSV (SUPERVISOR+; the route checks), streamed page by page through csv-stringify so memory stays
 * flat however many rows match. Phone numbers are masked (maskPhone) unless the operator is an ADMIN: supervisors
 * need to tell rows apart, and an export leaves the system's access control behind it.
 */
export function exportCsv(db: Database, operator: Operator, query: SearchQuery): ReadableStream<Uint8Array> {
  const showPhone = hasRole(operator.role, 'ADMIN');
  const csv = stringify({
    header: true,
    columns: [
      'conversation_id',
      'started_at',
      'last_message_at',
      'closed_at',
      'status',
      'channel',
      'department',
      'agent',
      'resolved_by',
      'contact_name',
      'contact_phone',
    ],
  });
  const row = (r: SearchRow) => [
    r.id,
    iso(r.startedAt),
    iso(r.lastMessageAt),
    iso(r.closedAt),
    r.status,
    r.channel,
    safeText(r.department),
    safeText(r.assignedAgentName),
    r.resolvedBy ?? '',
    safeText(r.contact.name),
    showPhone ? r.contact.phone : maskPhone(r.contact.phone),
  ];
  void (async () => {
    let search = await toSearch(db, operator, { ...query, limit: EXPORT_PAGE });
    let written = 0;
    for (;;) {
      const { rows, more } = await searchConversations(db, operator, search);
      for (const r of rows) {
        // Backpressure: wait for the client to read before fetching more.
        if (!csv.write(row(r))) await new Promise((resolve) => csv.once('drain', resolve));
      }
      written += rows.length;
      const last = rows.at(-1);
      if (!more || !last || written >= EXPORT_MAX_ROWS) break;
      search = { ...search, after: { startedAt: last.startedAt, id: last.id } };
    }
    csv.end();
  })().catch((error: unknown) => csv.destroy(error instanceof Error ? error : new Error(String(error))));
  return Readable.toWeb(csv) as ReadableStream<Uint8Array>;
}
