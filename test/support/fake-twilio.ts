import { randomBytes } from 'node:crypto';
import { listenLocal, readBody, sendJson } from './http-server';

export interface FakeTwilioMessage {
  sid: string;
  accountSid: string;
  from: string;
  to: string;
  body: string;
  statusCallback: string | null;
  contentSid: string | null;
  contentVariables: Record<string, string> | null;
  status: string;
  /** Set by a failed/undelivered delivery (e.g. 63016), as Twilio's resource shows it. */
  errorCode: string | null;
  dateCreated: Date;
  /** `outbound-api` for messages created through the REST API, `inbound` for messages customers sent us. */
  direction: 'outbound-api' | 'inbound';
}

/** What happens to a message after Twilio accepted it: the statuses its callbacks report, in order. */
export type DeliveryScript = string[] | { status: string; errorCode?: string }[];

type Failure = { status: number; code: number } | { dropConnectionAfterAccepting: true };

export interface FakeTwilioOptions {
  /**
   * Like Twilio: after accepting a message, POST signed status callbacks (sent, delivered by default) to its
   * StatusCallback URL, rewritten by this function (the public URL is not routable in tests). Off by default.
   */
  statusCallbacks?: { rewrite: (url: string) => string; sign: (url: string, authToken: string, params: Record<string, string>) => { headers: Record<string, string>; body: string } };
  /** WhatsApp's customer-service window (Meta: 24 h after the contact's last message to the sender). */
  whatsappWindowMs?: number;
}

/**
 * Twilio posts no callback for a message's initial status (`queued`): the first is `sent`, then `delivered` (and
 * `read` when the recipient's app reports it), or `failed`/`undelivered` with an ErrorCode.
 */
const DEFAULT_SCRIPT: DeliveryScript = ['sent', 'delivered'];
/** A free-form WhatsApp message outside the window: accepted by the REST API (201), then failed with 63016. */
const OUTSIDE_WINDOW: DeliveryScript = [{ status: 'failed', errorCode: '63016' }];

/**
 * A local stand-in for Twilio's REST API (Messages create and list), enough for the real twilio SDK pointed at
 * it through TWILIO_API_BASE_URL. It checks Basic auth against registered accounts, records every message,
 * and can fail the next requests with a Twilio error code or drop the connection after accepting a message.
 */
export async function startFakeTwilio(options: FakeTwilioOptions = {}) {
  const accounts = new Map<string, string>();
  const sent: FakeTwilioMessage[] = [];
  /** Messages customers sent to the accounts' numbers, as Twilio's message log holds them (webhook delivered or not). */
  const received: FakeTwilioMessage[] = [];
  const failures: Failure[] = [];
  const listeners = new Set<() => void>();
  const beforeRespond: ((message: FakeTwilioMessage) => Promise<void>)[] = [];
  /** Per recipient: the next messages to it fail at send time or after acceptance. */
  const recipientFailures = new Map<string, Failure[]>();
  const deliveryScripts = new Map<string, DeliveryScript[]>();
  let callbacksInFlight = 0;

  const server = await listenLocal(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const match = /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages\.json$/i.exec(url.pathname);
    if (!match) return sendJson(res, 404, { code: 20404, message: 'not found', status: 404 });
    const accountSid = match[1]!;
    const [user, pass] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString().split(':');
    if (user !== accountSid || accounts.get(accountSid) !== pass) return sendJson(res, 401, { code: 20003, message: 'Authenticate', status: 401 });

    if (req.method === 'GET') {
      const to = url.searchParams.get('To');
      const from = url.searchParams.get('From');
      const list = [...sent, ...received].sort((a, b) => a.dateCreated.getTime() - b.dateCreated.getTime()).filter((m) => m.accountSid === accountSid && (!to || m.to === to) && (!from || m.from === from)).reverse();
      return sendJson(res, 200, { messages: list.map(resource), page: 0, page_size: 50, next_page_uri: null, uri: url.pathname });
    }
    const form = new URLSearchParams(await readBody(req));
    const failure = failures.shift() ?? recipientFailures.get(form.get('To') ?? '')?.shift();
    if (failure && 'status' in failure) return sendJson(res, failure.status, { code: failure.code, message: `fake error ${failure.code}`, status: failure.status, more_info: `https://www.twilio.com/docs/errors/${failure.code}` });
    const message: FakeTwilioMessage = {
      sid: `SM${randomBytes(16).toString('hex')}`, accountSid, from: form.get('From') ?? '', to: form.get('To') ?? '',
      body: form.get('Body') ?? '', statusCallback: form.get('StatusCallback'), status: 'queued', errorCode: null, dateCreated: new Date(),
      contentSid: form.get('ContentSid'), contentVariables: form.get('ContentVariables') ? JSON.parse(form.get('ContentVariables')!) as Record<string, string> : null,
      direction: 'outbound-api',
    };
    sent.push(message);
    for (const listener of listeners) listener();
    const hook = beforeRespond.shift();
    if (hook) await hook(message);
    if (failure) {
      req.socket.destroy();
      return;
    }
    sendJson(res, 201, resource(message));
    void deliver(message);
  });

  /** Plays the message's delivery script as signed status callbacks, in order (Twilio's are asynchronous too). */
  async function deliver(message: FakeTwilioMessage) {
    const cb = options.statusCallbacks;
    if (!cb || !message.statusCallback) return;
    const scripted = deliveryScripts.get(message.to)?.shift();
    // Meta decides this, whatever else would have happened: free text to a contact silent for the window fails.
    const script = outsideWindow(message) ? OUTSIDE_WINDOW : scripted ?? DEFAULT_SCRIPT;
    callbacksInFlight += 1;
    try {
      for (const step of script) {
        const { status, errorCode } = typeof step === 'string' ? { status: step, errorCode: undefined } : step;
        message.status = status;
        if (errorCode) message.errorCode = errorCode;
        const params: Record<string, string> = { MessageSid: message.sid, MessageStatus: status, AccountSid: message.accountSid, From: message.from, To: message.to, ApiVersion: '2010-04-01', ...(errorCode ? { ErrorCode: errorCode } : {}) };
        const signed = cb.sign(message.statusCallback, accounts.get(message.accountSid) ?? '', params);
        const response = await fetch(cb.rewrite(message.statusCallback), { method: 'POST', headers: signed.headers, body: signed.body }).catch(() => null);
        if (!response || response.status >= 500) break; // Twilio would retry later; tests see the gap
      }
    } finally {
      callbacksInFlight -= 1;
      for (const listener of listeners) listener();
    }
  }

  /** Free-form (no ContentSid) WhatsApp message whose recipient has not written to this sender within the window. */
  function outsideWindow(m: FakeTwilioMessage): boolean {
    if (!m.from.startsWith('whatsapp:') || m.contentSid) return false;
    const windowMs = options.whatsappWindowMs ?? 24 * 3_600_000;
    const last = received.filter((r) => r.accountSid === m.accountSid && r.from === m.to && r.to === m.from).reduce((max, r) => Math.max(max, r.dateCreated.getTime()), -Infinity);
    return Date.now() - last >= windowMs;
  }

  function resource(m: FakeTwilioMessage) {
    return {
      sid: m.sid, account_sid: m.accountSid, from: m.from, to: m.to, body: m.body, status: m.status, num_segments: '1',
      direction: m.direction, api_version: '2010-04-01', date_created: m.dateCreated.toUTCString(), date_updated: m.dateCreated.toUTCString(),
      date_sent: null, error_code: m.errorCode ? Number(m.errorCode) : null, error_message: null, price: null, uri: `/2010-04-01/Accounts/${m.accountSid}/Messages/${m.sid}.json`,
    };
  }

  return {
    url: server.url,
    sent,
    received,
    /** Records a message a customer sent (Twilio's log has it whether or not its webhook reaches us). */
    receive(message: { sid: string; accountSid: string; from: string; to: string; body: string; dateCreated?: Date }) {
      received.push({ ...message, statusCallback: null, contentSid: null, contentVariables: null, status: 'received', errorCode: null, dateCreated: message.dateCreated ?? new Date(), direction: 'inbound' });
    },
    addAccount(accountSid: string, authToken: string) {
      accounts.set(accountSid, authToken);
    },
    /** Runs `hook` after accepting the next message and before answering (a status callback racing the reply). */
    beforeNextResponse(hook: (message: FakeTwilioMessage) => Promise<void>) {
      beforeRespond.push(hook);
    },
    failNext(...next: Failure[]) {
      failures.push(...next);
    },
    /** The next sends to `to` fail like this (an invalid number, a rate limit…), one failure per send. */
    failSendsTo(to: string, ...next: Failure[]) {
      recipientFailures.set(to, [...(recipientFailures.get(to) ?? []), ...next]);
    },
    /** The next accepted messages to `to` report these statuses (default: sent, delivered). */
    scriptDelivery(to: string, ...scripts: DeliveryScript[]) {
      deliveryScripts.set(to, [...(deliveryScripts.get(to) ?? []), ...scripts]);
    },
    get callbacksInFlight() {
      return callbacksInFlight;
    },
    /** Resolves once `predicate` holds over the recorded messages (checked on every new message). */
    waitFor(predicate: (messages: FakeTwilioMessage[]) => boolean, timeoutMs = 30_000): Promise<FakeTwilioMessage[]> {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!predicate(sent)) return false;
          cleanup();
          resolve(sent);
          return true;
        };
        const timer = setTimeout(() => { cleanup(); reject(new Error(`fake Twilio: condition not met within ${timeoutMs} ms (${sent.length} messages)`)); }, timeoutMs);
        const cleanup = () => { clearTimeout(timer); listeners.delete(listener); };
        const listener = () => { check(); };
        if (!check()) listeners.add(listener);
      });
    },
    close: () => server.close(),
  };
}

export type FakeTwilio = Awaited<ReturnType<typeof startFakeTwilio>>;
