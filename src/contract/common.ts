// The basic types every family below uses: channels, trace context, media, the agent a person acts as.

export type Channel = 'sms' | 'whatsapp';

/** Trace context carried with each unit of work (seed 001): one trace per entry point, a span per step. */
export interface TraceContext {
  traceId: string;
  spanId: string;
  parentId?: string | null;
  causalTraceId?: string | null;
}

export interface MediaItem {
  url: string;
  contentType: string | null;
}

export interface AgentRef {
  id: string;
  name: string;
}
