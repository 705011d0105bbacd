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
  /**
   * Issue 23 C: what the model heard or saw (a voice note's transcript, an image's description), stored with the
   * message, so retention and erasure blank it with the media link.
   */
  text?: string;
  /** A voice note's length when its data told it. */
  durationSec?: number;
  /** Why there is no text: the attachment was too large or too long, or reading it failed (the turn went on). */
  unread?: 'too_large' | 'too_long' | 'failed';
}

export interface AgentRef {
  id: string;
  name: string;
}
