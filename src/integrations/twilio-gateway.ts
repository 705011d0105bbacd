import twilio from 'twilio';
import RequestClient from 'twilio/lib/base/RequestClient';
import { classifyTwilioError, type TwilioErrorClass } from '../domain/twilio-errors';

export interface TwilioCredentials {
  accountSid: string;
  authToken: string;
}

export interface SendParams {
  from: string;
  /** Issue 22 F: send through this Messaging Service; Twilio picks the sender from its pool (no From is sent). */
  messagingServiceSid?: string | null;
  to: string;
  body?: string;
  contentSid?: string;
  contentVariables?: Record<string, string>;
  /** Public media URLs (Twilio fetches them); WhatsApp delivers only the first. */
  mediaUrl?: string[];
  statusCallback?: string;
}

export interface SentMessage {
  sid: string;
  status: string;
}

export interface RecentMessage {
  sid: string;
  status: string;
  body: string;
  createdAt: Date;
}

/** A message of the account's log, as Twilio's Message resource has it (inbound or outbound). */
export interface ListedMessage {
  sid: string;
  direction: 'inbound' | 'outbound';
  from: string;
  to: string;
  body: string;
  status: string;
  errorCode: string | null;
  numMedia: number;
  dateSent: Date | null;
  dateCreated: Date;
  /** What Twilio billed (a negative decimal string in `priceUnit`), once it knows: null before the message is sent. */
  price: string | null;
  priceUnit: string | null;
}

export interface ListedPage {
  messages: ListedMessage[];
  /** Twilio has more pages after this one (the caller's page limit stopped the listing). */
  hasMore: boolean;
}

export interface TwilioGateway {
  send(credentials: TwilioCredentials, params: SendParams): Promise<SentMessage>;
  /** Messages recently created from `from` to `to`: resolves an in-doubt send after a crash or timeout. */
  recent(
    credentials: TwilioCredentials,
    query: { from: string | null; to: string; since: Date },
  ): Promise<RecentMessage[]>;
  /**
   * The account's messages sent on or after `since` (Twilio's DateSent> filter), newest first, page by page,
   * at most `maxPages` pages of `pageSize`: one reconciliation run stays bounded however busy the account is.
   */
  listSince(
    credentials: TwilioCredentials,
    query: { since: Date; pageSize: number; maxPages: number },
  ): AsyncGenerator<ListedPage>;
  /**
   * One message as Twilio has it now (null when Twilio has no such message). Reconciliation uses it for our own
   * unsettled sends: a message Twilio never sent has no date_sent, so the DateSent> listing never shows it.
   */
  fetchMessage(credentials: TwilioCredentials, sid: string): Promise<ListedMessage | null>;
  /**
   * WhatsApp typing indicator (Twilio public beta, POST messaging.twilio.com/v2/Indicators/Typing.json with the
   * inbound message's SID): marks that message read and shows "typing…" until our reply or 25 s. Short timeout,
   * no retry: best effort (issue 22 E).
   */
  typing(credentials: TwilioCredentials, messageSid: string): Promise<void>;
  /** A message's media (Twilio's Media subresource) as the webhook would carry them: URL and content type. */
  media(credentials: TwilioCredentials, messageSid: string): Promise<{ url: string; contentType: string | null }[]>;
}

export class TwilioSendError extends Error {
  constructor(
    message: string,
    readonly classification: TwilioErrorClass,
    readonly code: number | undefined,
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TwilioSendError';
  }
}

/** Rewrites `https://api.twilio.com` to TWILIO_API_BASE_URL (a sandbox or a local fake); the SDK has no option. */
class BaseUrlRequestClient extends RequestClient {
  constructor(
    private readonly baseUrl: string,
    options: RequestClient.RequestClientOptions,
  ) {
    super(options);
  }

  override request<TData>(opts: RequestClient.RequestOptions<TData>) {
    const target = new URL(this.baseUrl);
    const uri = new URL(opts.uri);
    if (uri.hostname.endsWith('.twilio.com')) {
      uri.protocol = target.protocol;
      uri.host = target.host;
      uri.pathname = target.pathname.replace(/\/$/, '') + uri.pathname;
    }
    return super.request({ ...opts, uri: uri.toString() });
  }
}

/** The typing indicator is worth something only now: a slow answer is abandoned, never waited for. */
const TYPING_TIMEOUT_MS = 3000;

export function createTwilioGateway(options: { apiBaseUrl: string; timeoutMs: number }): TwilioGateway {
  const clients = new Map<string, twilio.Twilio>();
  const clientFor = ({ accountSid, authToken }: TwilioCredentials, timeoutMs = options.timeoutMs) => {
    const key = `${accountSid}:${authToken}:${timeoutMs}`;
    let client = clients.get(key);
    if (!client) {
      // autoRetry stays off: Temporal retries sends, after the outbox says whether the first one went out.
      const httpClient = new BaseUrlRequestClient(options.apiBaseUrl, {
        timeout: timeoutMs,
        autoRetry: false,
        keepAlive: true,
      });
      client = twilio(accountSid, authToken, { httpClient, autoRetry: false });
      clients.set(key, client);
    }
    return client;
  };

  return {
    async send(credentials, params) {
      try {
        const message = await clientFor(credentials).messages.create({
          ...(params.messagingServiceSid ? { messagingServiceSid: params.messagingServiceSid } : { from: params.from }),
          to: params.to,
          ...(params.body !== undefined ? { body: params.body } : {}),
          ...(params.mediaUrl?.length ? { mediaUrl: params.mediaUrl } : {}),
          ...(params.contentSid
            ? { contentSid: params.contentSid, contentVariables: JSON.stringify(params.contentVariables ?? {}) }
            : {}),
          ...(params.statusCallback ? { statusCallback: params.statusCallback } : {}),
        });
        return { sid: message.sid, status: message.status };
      } catch (error) {
        throw toSendError(error);
      }
    },
    async recent(credentials, query) {
      try {
        const list = await clientFor(credentials).messages.list({
          ...(query.from ? { from: query.from } : {}),
          to: query.to,
          limit: 50,
        });
        return list
          .filter((m) => m.dateCreated >= query.since)
          .map((m) => ({ sid: m.sid, status: m.status, body: m.body, createdAt: m.dateCreated }));
      } catch (error) {
        throw toSendError(error);
      }
    },
    async *listSince(credentials, query) {
      const client = clientFor(credentials);
      let page;
      try {
        page = await client.messages.page({ dateSentAfter: query.since, pageSize: query.pageSize });
      } catch (error) {
        throw toSendError(error);
      }
      for (let n = 1; ; n += 1) {
        // next_page_uri carries Twilio's PageToken: the next page starts after this page's last message.
        const more = Boolean(page.nextPageUrl);
        yield { messages: page.instances.map(toListed), hasMore: more };
        if (!more || n >= query.maxPages) return;
        try {
          page = await page.nextPage()!;
        } catch (error) {
          throw toSendError(error);
        }
      }
    },
    async typing(credentials, messageSid) {
      try {
        await clientFor(credentials, TYPING_TIMEOUT_MS).messaging.v2.typingIndicator.create({
          channel: 'whatsapp',
          messageId: messageSid,
        });
      } catch (error) {
        throw toSendError(error);
      }
    },
    async fetchMessage(credentials, sid) {
      try {
        return toListed(await clientFor(credentials).messages(sid).fetch());
      } catch (error) {
        if ((error as { status?: number }).status === 404) return null;
        throw toSendError(error);
      }
    },
    async media(credentials, messageSid) {
      try {
        const list = await clientFor(credentials).messages(messageSid).media.list({ limit: 20 });
        // The webhook's MediaUrlN is the media resource's URL without `.json`, on Twilio's public API host.
        return list.map((m) => ({
          url: `https://api.twilio.com${m.uri.replace(/\.json$/, '')}`,
          contentType: m.contentType ?? null,
        }));
      } catch (error) {
        throw toSendError(error);
      }
    },
  };
}

function toListed(m: {
  sid: string;
  direction: string;
  from: string;
  to: string;
  body: string;
  status: string;
  errorCode: number | null;
  numMedia: string;
  dateSent: Date | null;
  dateCreated: Date;
  price?: number | string | null;
  priceUnit?: string | null;
}): ListedMessage {
  return {
    sid: m.sid,
    direction: m.direction === 'inbound' ? 'inbound' : 'outbound',
    from: m.from,
    to: m.to,
    body: m.body ?? '',
    status: m.status,
    errorCode: m.errorCode === null || m.errorCode === undefined ? null : String(m.errorCode),
    numMedia: Number(m.numMedia ?? '0') || 0,
    dateSent: m.dateSent ?? null,
    dateCreated: m.dateCreated,
    price: m.price === null || m.price === undefined ? null : String(m.price),
    priceUnit: m.priceUnit ?? null,
  };
}

function toSendError(error: unknown): TwilioSendError {
  const e = error as { status?: number; code?: number; message?: string };
  const status = typeof e.status === 'number' ? e.status : undefined;
  const code = typeof e.code === 'number' ? e.code : undefined;
  const classification = classifyTwilioError(status, code);
  // No `cause`: Twilio's message echoes the request ("The 'To' number +55… is not a valid phone number") and a
  // cause travels into logs and, through ApplicationFailure, into workflow histories. Status and code suffice.
  const network =
    status === undefined && typeof (error as { code?: unknown }).code === 'string'
      ? ` (${(error as { code: string }).code})`
      : '';
  return new TwilioSendError(
    `Twilio ${status ?? `network error${network}`}${code ? ` code ${code}` : ''}`,
    classification,
    code,
    status,
  );
}
