import { createCipheriv, createDecipheriv } from 'node:crypto';
import {
  METADATA_ENCODING_KEY,
  ValueError,
  type Payload,
  type PayloadCodec,
  type SerializationContext,
} from '@temporalio/common';
import proto from '@temporalio/proto';
import type { PayloadKey } from '../config/payload-key-spec';
import { pooledRandomBytes } from '../domain/random-pool';

// The key list format lives in its own module, light enough for config parsing (src/config/env.ts).
export { formatPayloadKeys, parsePayloadKeys, type PayloadKey } from '../config/payload-key-spec';

/** The encoding of an encrypted payload; its `data` is IV ‖ AES-256-GCM ciphertext ‖ tag of the whole original Payload. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata key naming the key a payload was encrypted with, so rotation can decrypt old histories. */
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export const isEncryptedPayload = (payload: Payload) =>
  payload.metadata?.[METADATA_ENCODING_KEY] !== undefined &&
  fromUtf8.decode(payload.metadata[METADATA_ENCODING_KEY]) === ENCRYPTED_ENCODING;

/**
 * Issue 18 B: metadata key naming the tenant a payload belongs to, `slug:<tenant slug>` or `id:<tenant uuid>`. It
 * is bound into the AES-GCM additional data, so it cannot be added, removed or changed without failing
 * authentication. /codec/decode decrypts a payload only for operators of that tenant.
 */
export const TENANT_METADATA = 'encryption-tenant';

/** The tenant marker of an encrypted payload, or null (unmarked: system workflows, histories written before B). */
export function tenantMarkerOf(payload: Payload): string | null {
  const bytes = payload.metadata?.[TENANT_METADATA];
  return bytes ? fromUtf8.decode(bytes) : null;
}

/** The markers that name an operator's tenant. */
export const tenantMarkers = (tenant: { tenantId: string; tenantSlug: string }) => [
  `slug:${tenant.tenantSlug}`,
  `id:${tenant.tenantId}`,
];

/** Workflow ids that carry the tenant's slug as their second part (src/contract/ids.ts). */
const SLUG_IN_ID = /^(?:conversation|sender|reconcile|erasure):([a-z0-9][a-z0-9-]*)(?::|$)/;
const MARKER = /^(?:slug|id):[\w-]{1,100}$/;

/** The tenant named by a payload's own JSON (Causeway's inputs carry tenantId / tenantSlug at their top level). */
function tenantInContent(payload: Payload): string | null {
  const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
  if (!encoding || fromUtf8.decode(encoding) !== 'json/plain' || !payload.data) return null;
  const text = fromUtf8.decode(payload.data);
  if (!text.includes('"tenant')) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  for (const item of Array.isArray(value) ? value : [value]) {
    if (!item || typeof item !== 'object') continue;
    const { tenantSlug, tenantId } = item as { tenantSlug?: unknown; tenantId?: unknown };
    const marker =
      typeof tenantSlug === 'string' ? `slug:${tenantSlug}` : typeof tenantId === 'string' ? `id:${tenantId}` : null;
    if (marker && MARKER.test(marker)) return marker;
  }
  return null;
}

/** Unencrypted payload in a process that refuses them (production): a forged plain-JSON start or signal. */
export class PlaintextPayloadRefused extends ValueError {
  constructor() {
    super(
      'unencrypted payload refused: this process accepts only payloads encrypted with CAUSEWAY_PAYLOAD_KEYS (CAUSEWAY_PLAINTEXT_PAYLOADS=refuse)',
    );
  }
}

export interface EncryptionCodecOptions {
  /** Decode refuses payloads that are not encrypted (production): nothing forged in plain JSON is executed. */
  refusePlaintext?: boolean;
  /** How many workflow ids → tenant the codec remembers (learned from the payloads it encodes and decodes). */
  maxRememberedWorkflows?: number;
}

/**
 * AES-256-GCM over the whole serialized Payload (its metadata too, so even the inner encoding is hidden). The key
 * id and the tenant marker are authenticated as additional data: a payload cannot be made to decrypt under a
 * different key's name, nor be relabelled as another tenant's. Payloads that are not encrypted pass through decode
 * unchanged unless `refusePlaintext`: histories written before encryption (and the committed replay fixtures) stay
 * readable and replayable.
 *
 * The tenant of a payload (issue 18 B) comes from its serialization context (Temporal passes the owning workflow's
 * id to every codec call, client and worker): the slug in `conversation:<slug>:…`-style ids, else what this codec
 * learned about that workflow id from a payload it already encoded or decoded (a worker decodes a workflow's
 * start input before it encodes anything for it), else the payload's own `tenantSlug` / `tenantId`. A payload for
 * which none applies is written unmarked and /codec/decode shows it to nobody: the mechanism fails closed.
 */
export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly current: PayloadKey;
  private readonly tenantOfWorkflow = new Map<string, string>();
  private readonly maxRemembered: number;
  private readonly refusePlaintext: boolean;

  constructor(keys: PayloadKey[], options: EncryptionCodecOptions = {}) {
    if (keys.length === 0) throw new Error('EncryptionCodec needs at least one key');
    this.current = keys[0]!;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
    this.maxRemembered = options.maxRememberedWorkflows ?? 100_000;
    this.refusePlaintext = options.refusePlaintext ?? false;
  }

  get keyIds(): string[] {
    return [...this.byId.keys()];
  }

  private remember(workflowId: string, marker: string) {
    if (this.tenantOfWorkflow.get(workflowId) === marker) return;
    this.tenantOfWorkflow.delete(workflowId);
    this.tenantOfWorkflow.set(workflowId, marker);
    // A Map iterates in insertion order: the first key is the least recently learned.
    if (this.tenantOfWorkflow.size > this.maxRemembered)
      this.tenantOfWorkflow.delete(this.tenantOfWorkflow.keys().next().value!);
  }

  /** The tenant marker of each payload encoded in `context` (null: unmarked). */
  private tenantsFor(payloads: Payload[], context: SerializationContext | undefined): (string | null)[] {
    const workflowId = context?.workflowId;
    if (workflowId) {
      const slug = SLUG_IN_ID.exec(workflowId)?.[1];
      const known = slug ? `slug:${slug}` : this.tenantOfWorkflow.get(workflowId);
      if (known) return payloads.map(() => known);
    }
    // No workflow to go by: each payload by its own content, else by the first that names a tenant.
    const own = payloads.map(tenantInContent);
    const first = own.find((m) => m !== null) ?? null;
    if (first && workflowId) this.remember(workflowId, first);
    return own.map((m) => m ?? first);
  }

  // async: a failure rejects the promise instead of throwing from the call.
  // eslint-disable-next-line @typescript-eslint/require-await
  async encode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    const tenants = this.tenantsFor(payloads, context);
    return payloads.map((payload, i) => this.seal(payload, tenants[i]!));
  }

  /** Encodes for an operator (the /codec/encode endpoint): marked with the operator's tenant. */
  // eslint-disable-next-line @typescript-eslint/require-await
  async encodeForTenant(payloads: Payload[], tenant: { tenantSlug: string }): Promise<Payload[]> {
    return payloads.map((payload) => this.seal(payload, `slug:${tenant.tenantSlug}`));
  }

  private seal(payload: Payload, tenant: string | null): Payload {
    // A fresh random IV per payload (GCM needs it unique under the key), cut from the pooled block (issue 25 A).
    const iv = pooledRandomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(this.current.id, tenant));
    const plain = proto.temporal.api.common.v1.Payload.encode(payload).finish();
    const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: utf8.encode(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: utf8.encode(this.current.id),
        ...(tenant ? { [TENANT_METADATA]: utf8.encode(tenant) } : {}),
      },
      data,
    };
  }

  // eslint-disable-next-line @typescript-eslint/require-await
  async decode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (!isEncryptedPayload(payload)) {
        if (this.refusePlaintext) throw new PlaintextPayloadRefused();
        return payload;
      }
      const idBytes = payload.metadata?.[KEY_ID_METADATA];
      if (!idBytes) throw new ValueError('encrypted payload without a key id');
      const id = fromUtf8.decode(idBytes);
      const key = this.byId.get(id);
      // The id is not secret; naming it tells the operator which key to add back to CAUSEWAY_PAYLOAD_KEYS.
      if (!key) throw new ValueError(`payload encrypted with key "${id}", which is not in CAUSEWAY_PAYLOAD_KEYS`);
      const data = payload.data ?? new Uint8Array();
      if (data.length < IV_BYTES + TAG_BYTES) throw new ValueError('encrypted payload is truncated');
      const tenant = tenantMarkerOf(payload);
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(additionalData(id, tenant));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      } catch {
        throw new ValueError(
          `encrypted payload failed authentication with key "${id}" (wrong key material or tampered data)`,
        );
      }
      // Authenticated now: this workflow's later payloads (its activities' results, its queries) get the same tenant.
      if (tenant && context?.workflowId) this.remember(context.workflowId, tenant);
      return proto.temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

/** Unmarked payloads keep the original additional data (the key id alone), so every history written before stays readable. */
const additionalData = (keyId: string, tenant: string | null) =>
  utf8.encode(tenant ? `${keyId}\u0000tenant=${tenant}` : keyId);
