import twilio from 'twilio';
import RequestClient from 'twilio/lib/base/RequestClient';
import { classifyTwilioError, type TwilioErrorClass } from '../domain/twilio-errors';

export interface TwilioCredentials {
  accountSid: string;
  authToken: string;
}

export interface SendParams {
  from: string;
  to: string;
  body?: string;
  contentSid?: string;
  contentVariables?: Record<string, string>;
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

export interface TwilioGateway {
  send(credentials: TwilioCredentials, params: SendParams): Promise<SentMessage>;
  /** Messages recently created from `from` to `to`: resolves an in-doubt send after a crash or timeout. */
  recent(credentials: TwilioCredentials, query: { from: string; to: string; since: Date }): Promise<RecentMessage[]>;
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
  constructor(private readonly baseUrl: string, options: RequestClient.RequestClientOptions) {
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

export function createTwilioGateway(options: { apiBaseUrl: string; timeoutMs: number }): TwilioGateway {
  const clients = new Map<string, twilio.Twilio>();
  const clientFor = ({ accountSid, authToken }: TwilioCredentials) => {
    const key = `${accountSid}:${authToken}`;
    let client = clients.get(key);
    if (!client) {
      // autoRetry stays off: Temporal retries sends, after the outbox says whether the first one went out.
      const httpClient = new BaseUrlRequestClient(options.apiBaseUrl, { timeout: options.timeoutMs, autoRetry: false, keepAlive: true });
      client = twilio(accountSid, authToken, { httpClient, autoRetry: false });
      clients.set(key, client);
    }
    return client;
  };

  return {
    async send(credentials, params) {
      try {
        const message = await clientFor(credentials).messages.create({
          from: params.from,
          to: params.to,
          ...(params.body !== undefined ? { body: params.body } : {}),
          ...(params.contentSid ? { contentSid: params.contentSid, contentVariables: JSON.stringify(params.contentVariables ?? {}) } : {}),
          ...(params.statusCallback ? { statusCallback: params.statusCallback } : {}),
        });
        return { sid: message.sid, status: message.status };
      } catch (error) {
        throw toSendError(error);
      }
    },
    async recent(credentials, query) {
      try {
        const list = await clientFor(credentials).messages.list({ from: query.from, to: query.to, limit: 50 });
        return list
          .filter((m) => m.dateCreated >= query.since)
          .map((m) => ({ sid: m.sid, status: m.status, body: m.body, createdAt: m.dateCreated }));
      } catch (error) {
        throw toSendError(error);
      }
    },
  };
}

function toSendError(error: unknown): TwilioSendError {
  const e = error as { status?: number; code?: number; message?: string };
  const status = typeof e.status === 'number' ? e.status : undefined;
  const code = typeof e.code === 'number' ? e.code : undefined;
  const classification = classifyTwilioError(status, code);
  return new TwilioSendError(`Twilio ${status ?? 'network error'}${code ? ` code ${code}` : ''}`, classification, code, status, { cause: error });
}
