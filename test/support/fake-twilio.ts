import { createHmac, randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { listenLocal, readBody, sendJson } from './http-server';

/** A 48×48 checkered PNG: what a media file holds unless a test gives its own bytes. */
export const TINY_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAADAAAAAwCAIAAADYYG7QAAAAT0lEQVR42u3WsQ0AIAgEQDZyNDd2FV1ASmPxRyhJuAq+xlzX3k29ni8gIKA40K/F3TwQEFAeyKUGAgKSh7wOICB5yKUGAgKSh7wOIKBo0AHcaiGtoCAgjgAAAABJRU5ErkJggg==',
  'base64',
);

export interface FakeTwilioMessage {
  sid: string;
  accountSid: string;
  /** The Messaging Service the message was sent through (its `from` is the pool's pick), else null. */
  messagingServiceSid?: string | null;
  from: string;
  to: string;
  body: string;
  statusCallback: string | null;
  contentSid: string | null;
  contentVariables: Record<string, string> | null;
  status: string;
  dateCreated: Date;
  /**
   * Twilio's `date_sent`: for an inbound message when Twilio posted its webhook, for an outbound one when Twilio
   * handed it on (status `sent`); null while queued. The list's DateSent filters and its order use it.
   */
  dateSent: Date | null;
  /** `outbound-api` for messages created through the REST API, `inbound` for messages customers sent us. */
  direction: 'outbound-api' | 'inbound';
  /** Media of an inbound message (Twilio's Media subresource); its webhook carries them as MediaUrlN. */
  media: { sid: string; contentType: string; data?: Buffer }[];
  /** The MediaUrl values of an outbound message as Twilio kept them (WhatsApp: the first only). */
  mediaUrl: string[];
  /** Set by a failed/undelivered delivery (e.g. 63016), as Twilio's resource shows it (a number). */
  errorCode: number | null;
  /**
   * Twilio's `price` (a negative decimal string, billed per segment in `price_unit`): null until the message has
   * been sent ("populated after the message has been sent", Twilio's Message resource), and for one that failed
   * before that, which is not billed. Never part of a status callback: only the REST resource shows it.
   */
  price?: string | null;
}

/** What happens to a message after Twilio accepted it: the statuses its callbacks report, in order. */
export type DeliveryScript = string[] | { status: string; errorCode?: string; dropCallback?: boolean }[];

type Failure = { status: number; code: number } | { dropConnectionAfterAccepting: true };

export interface FakeTwilioOptions {
  /**
   * Like Twilio: after accepting a message, POST signed status callbacks (sent, delivered by default) to its
   * StatusCallback URL, rewritten by this function (the public URL is not routable in tests). Off by default.
   */
  statusCallbacks?: {
    rewrite: (url: string) => string;
    sign: (
      url: string,
      authToken: string,
      params: Record<string, string>,
    ) => { headers: Record<string, string>; body: string };
  };
  /** WhatsApp's customer-service window (Meta: 24 h after the contact's last message to the sender). */
  whatsappWindowMs?: number;
}

/**
 * A DateSent filter value: a GMT day (`2024-05-01`, the whole day) or an instant (`2024-05-01T10:00:00Z`, that
 * second). `from`/`to` bound it: `DateSent>` keeps messages from `from` on, `DateSent<` those before `to`.
 */
function parseDateFilter(value: string): { from: number; to: number } | null {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const from = Date.parse(`${value}T00:00:00Z`);
    return Number.isNaN(from) ? null : { from, to: from + 86_400_000 };
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$/.test(value)) return null;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return null;
  const from = Math.floor(at / 1000) * 1000;
  return { from, to: from + 1000 };
}

/** Twilio's date format: RFC 2822 in GMT, `Tue, 01 Dec 2026 09:17:27 +0000`. */
const rfc2822 = (d: Date) => d.toUTCString().replace(/GMT$/, '+0000');

/** Newest first by date_sent; a message not sent yet sorts by its creation. */
const sortKey = (m: FakeTwilioMessage) => (m.dateSent ?? m.dateCreated).getTime();

/**
 * Twilio posts no callback for a message's initial status (`queued`): the first is `sent`, then `delivered` (and
 * `read` when the recipient's app reports it), or `failed`/`undelivered` with an ErrorCode.
 */
const DEFAULT_SCRIPT: DeliveryScript = ['sent', 'delivered'];
/** Statuses that mean Twilio handed the message on (its date_sent is set from the first of them). */
const SENT_STATUSES = new Set(['sent', 'delivered', 'undelivered', 'read', 'partially_delivered']);

/** What Twilio bills a sent message, in USD as its resource shows it: per 153-character segment for SMS, per message on WhatsApp. */
function priceOf(m: FakeTwilioMessage): string {
  if (m.from.startsWith('whatsapp:')) return m.contentSid ? '-0.02500' : '-0.00500';
  const segments = Math.max(1, Math.ceil(m.body.length / 153));
  return (-0.0079 * segments).toFixed(5);
}
/** A free-form WhatsApp message outside the window: accepted by the REST API (201), then failed with 63016. */
const OUTSIDE_WINDOW: DeliveryScript = [{ status: 'failed', errorCode: '63016' }];
/** A template whose parameter count does not match: accepted (201), then failed with 63028 (Meta's 2000). */
const PARAMETER_MISMATCH: DeliveryScript = [{ status: 'failed', errorCode: '63028' }];

/**
 * A local stand-in for Twilio's REST API (Messages: create, list with Twilio's paging, fetch, Media), enough for
 * the real twilio SDK pointed at it through TWILIO_API_BASE_URL. It checks Basic auth against registered accounts, records every message,
 * and can fail the next requests with a Twilio error code or drop the connection after accepting a message.
 */
export async function startFakeTwilio(options: FakeTwilioOptions = {}) {
  const accounts = new Map<string, string>();
  const sent: FakeTwilioMessage[] = [];
  /** Messages customers sent to the accounts' numbers, as Twilio's message log holds them (webhook delivered or not). */
  const received: FakeTwilioMessage[] = [];
  /** The same messages by customer → sender pair: the window check per send read all of them (O(n) a send). */
  const receivedByPair = new Map<string, FakeTwilioMessage[]>();
  const pairKey = (from: string, to: string) => `${from}\u0000${to}`;
  const failures: Failure[] = [];
  const listeners = new Set<() => void>();
  const beforeRespond: ((message: FakeTwilioMessage) => Promise<void>)[] = [];
  /** Per recipient: the next messages to it fail at send time or after acceptance. */
  const recipientFailures = new Map<string, Failure[]>();
  const deliveryScripts = new Map<string, DeliveryScript[]>();
  let callbacksInFlight = 0;
  /** Typing indicators Twilio was asked to show, in order. */
  const typing: { accountSid: string; messageId: string; at: Date }[] = [];
  let typingOutage = false;
  /** Messaging Services: SID → the sender pool (addresses as `From` would carry them). */
  const services = new Map<string, string[]>();
  /** Content templates registered with the fake (ContentSid → its placeholders, `1`, `2`…), as Twilio's Content API holds them. */
  const contents = new Map<string, string[]>();
  /** Every GET of a media file: for which account, and whether its credentials were right. */
  const mediaRequests: { accountSid: string; authorized: boolean }[] = [];
  /** Every request the fake saw: path + query, and whether it carried an Authorization header (issue 18 A). */
  const requests: { method: string; path: string; authorization: boolean }[] = [];
  /** Every GET of a signed CDN URL the media redirect points at, and whether credentials came along. */
  const cdnRequests: { mediaSid: string; authorization: boolean }[] = [];
  const cdnKey = randomBytes(16);
  const cdnSignature = (mediaSid: string) => createHmac('sha256', cdnKey).update(mediaSid).digest('hex');

  const server = await listenLocal(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    requests.push({
      method: req.method ?? 'GET',
      path: url.pathname + url.search,
      authorization: !!req.headers.authorization,
    });
    // The signed, short-lived CDN URL Twilio's media GET redirects to: no credentials needed (nor wanted).
    const cdnMatch = /^\/cdn\/(ME[0-9a-f]{32})$/.exec(url.pathname);
    if (cdnMatch && req.method === 'GET') {
      cdnRequests.push({ mediaSid: cdnMatch[1]!, authorization: !!req.headers.authorization });
      const item = received.flatMap((m) => m.media).find((m) => m.sid === cdnMatch[1]);
      if (!item || url.searchParams.get('Signature') !== cdnSignature(cdnMatch[1]!))
        return sendJson(res, 403, { message: 'signature does not match' });
      res.writeHead(200, { 'content-type': item.contentType });
      res.end(item.data ?? TINY_PNG);
      return;
    }
    // A media file (the MediaUrlN of an inbound webhook): like Twilio's, only with the account's credentials.
    const mediaMatch =
      /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages\/(MM[0-9a-f]{32}|SM[0-9a-f]{32})\/Media\/(ME[0-9a-f]{32})$/i.exec(
        url.pathname,
      );
    if (mediaMatch && req.method === 'GET') {
      const [, mediaAccount, messageSid, mediaSid] = mediaMatch;
      const [mediaUser, mediaPass] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
        .toString()
        .split(':');
      mediaRequests.push({
        accountSid: mediaAccount!,
        authorized: mediaUser === mediaAccount && accounts.get(mediaAccount!) === mediaPass,
      });
      if (mediaUser !== mediaAccount || accounts.get(mediaAccount!) !== mediaPass)
        return sendJson(res, 401, { code: 20003, message: 'Authenticate', status: 401 });
      const item = received
        .find((m) => m.accountSid === mediaAccount && m.sid === messageSid)
        ?.media.find((m) => m.sid === mediaSid);
      if (!item) return sendJson(res, 404, { code: 20404, message: 'not found', status: 404 });
      // Like Twilio: the media content is answered with a redirect to a temporary signed URL on its CDN.
      res.writeHead(307, { location: `${server.url}/cdn/${item.sid}?Expires=300&Signature=${cdnSignature(item.sid)}` });
      res.end();
      return;
    }
    // WhatsApp typing indicator (public beta): POST messaging.twilio.com/v2/Indicators/Typing.json, form-encoded
    // `channel=whatsapp` and `messageId` (an SM/MM SID of a message of the conversation); answers {"success": true}.
    if (url.pathname === '/v2/Indicators/Typing.json') {
      const [typingUser, typingPass] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
        .toString()
        .split(':');
      if (req.method !== 'POST') return sendJson(res, 405, { code: 20004, message: 'Method not allowed', status: 405 });
      if (!typingUser || accounts.get(typingUser) !== typingPass)
        return sendJson(res, 401, { code: 20003, message: 'Authenticate', status: 401 });
      const form = new URLSearchParams(await readBody(req));
      const messageId = form.get('messageId') ?? '';
      if (form.get('channel') !== 'whatsapp' || !/^(SM|MM)[0-9a-fA-F]{32}$/.test(messageId))
        return sendJson(res, 400, { code: 20001, message: 'Invalid parameter', status: 400 });
      if (typingOutage) return sendJson(res, 503, { code: 20503, message: 'Service unavailable', status: 503 });
      typing.push({ accountSid: typingUser, messageId, at: new Date() });
      for (const listener of listeners) listener();
      return sendJson(res, 200, { success: true });
    }
    // The list, one message, and a message's Media subresource (what reconciliation reads).
    const match =
      /^\/2010-04-01\/Accounts\/(AC[0-9a-f]{32})\/Messages(?:\/((?:SM|MM)[0-9a-f]{32})(?:\/(Media))?)?\.json$/i.exec(
        url.pathname,
      );
    if (!match) return sendJson(res, 404, { code: 20404, message: 'not found', status: 404 });
    const accountSid = match[1]!;
    const [user, pass] = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64')
      .toString()
      .split(':');
    if (user !== accountSid || accounts.get(accountSid) !== pass)
      return sendJson(res, 401, { code: 20003, message: 'Authenticate', status: 401 });

    if (req.method === 'GET') {
      if (match[2] === undefined) return listMessages(res, accountSid, url);
      const message = [...sent, ...received].find((m) => m.accountSid === accountSid && m.sid === match[2]);
      if (!message)
        return sendJson(res, 404, {
          code: 20404,
          message: `The requested resource ${url.pathname} was not found`,
          more_info: 'https://www.twilio.com/docs/errors/20404',
          status: 404,
        });
      if (match[3] === undefined) return sendJson(res, 200, resource(message));
      return sendJson(res, 200, mediaPage(message));
    }
    if (match[2] !== undefined) return sendJson(res, 405, { code: 20004, message: 'Method not allowed', status: 405 });
    const form = new URLSearchParams(await readBody(req));
    const invalid = validateCreate(form);
    if (invalid)
      return sendJson(res, 400, {
        code: invalid.code,
        message: invalid.message,
        more_info: `https://www.twilio.com/docs/errors/${invalid.code}`,
        status: 400,
      });
    const mediaUrl = form.getAll('MediaUrl');
    // Twilio: "a WhatsApp media message can only contain one media attachment; additional ones are ignored".
    const keptMedia = (form.get('From') ?? '').startsWith('whatsapp:') ? mediaUrl.slice(0, 1) : mediaUrl;
    const failure = failures.shift() ?? recipientFailures.get(form.get('To') ?? '')?.shift();
    if (failure && 'status' in failure)
      return sendJson(res, failure.status, {
        code: failure.code,
        message: `fake error ${failure.code}`,
        status: failure.status,
        more_info: `https://www.twilio.com/docs/errors/${failure.code}`,
      });
    // A Messaging Service (MessagingServiceSid instead of From): Twilio picks a sender of the To's channel from the
    // service's pool and the message starts `accepted` (Twilio's docs: Outbound Message Status in Status Callbacks).
    const serviceSid = form.get('MessagingServiceSid');
    let serviceFrom: string | null = null;
    if (serviceSid) {
      const pool = services.get(serviceSid);
      if (!pool)
        return sendJson(res, 400, { code: 21705, message: 'The Messaging Service Sid is invalid', status: 400 });
      const whatsapp = (form.get('To') ?? '').startsWith('whatsapp:');
      serviceFrom = pool.find((a) => a.startsWith('whatsapp:') === whatsapp) ?? null;
      if (!serviceFrom)
        return sendJson(res, 400, {
          code: 21703,
          message: 'The Messaging Service contains no phone numbers',
          status: 400,
        });
    } else if (!form.get('From'))
      return sendJson(res, 400, { code: 21603, message: "A 'From' phone number is required", status: 400 });
    const message: FakeTwilioMessage = {
      sid: `SM${randomBytes(16).toString('hex')}`,
      accountSid,
      messagingServiceSid: serviceSid,
      from: serviceFrom ?? form.get('From') ?? '',
      to: form.get('To') ?? '',
      body: form.get('Body') ?? '',
      statusCallback: form.get('StatusCallback'),
      status: serviceSid ? 'accepted' : 'queued',
      dateCreated: new Date(),
      dateSent: null,
      // Twilio fetches each URL and stores it as a Media resource; the fake does not fetch, so the type is unknown.
      media: keptMedia.map(() => ({
        sid: `ME${randomBytes(16).toString('hex')}`,
        contentType: 'application/octet-stream',
      })),
      mediaUrl: keptMedia,
      errorCode: null,
      contentSid: form.get('ContentSid'),
      contentVariables: form.get('ContentVariables')
        ? (JSON.parse(form.get('ContentVariables')!) as Record<string, string>)
        : null,
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

  /**
   * The create-time checks Twilio documents for the parameters we send: 21602 (Body, MediaUrl or ContentSid is
   * required), 21620 (a MediaUrl that is not an http(s) URL), 21623 (more than 10 media).
   */
  function validateCreate(form: URLSearchParams): { code: number; message: string } | null {
    const media = form.getAll('MediaUrl');
    const variables = form.get('ContentVariables');
    if (variables !== null) {
      // 21654: ContentVariables need a ContentSid; 35127: Body and ContentVariables cannot be provided together;
      // 21656: ContentVariables must be a JSON object whose values are neither null nor empty strings.
      if (!form.get('ContentSid')) return { code: 21654, message: 'ContentSid Required' };
      if (form.get('Body'))
        return { code: 35127, message: "'Messages' Body and ContentVariables cannot be provided together" };
      let parsed: unknown;
      try {
        parsed = JSON.parse(variables);
      } catch {
        parsed = undefined;
      }
      const valid =
        parsed !== null &&
        typeof parsed === 'object' &&
        !Array.isArray(parsed) &&
        Object.values(parsed as Record<string, unknown>).every((v) => typeof v === 'string' && v !== '');
      if (!valid) return { code: 21656, message: 'The Content Variables parameter is invalid.' };
    }
    if (!form.get('Body') && media.length === 0 && !form.get('ContentSid'))
      return { code: 21602, message: 'Message body is required.' };
    if (media.length > 10) return { code: 21623, message: 'Number of media files exceeds allowed limit' };
    for (const value of media) {
      let url: URL | null = null;
      try {
        url = new URL(value);
      } catch {
        url = null;
      }
      if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:'))
        return { code: 21620, message: 'Invalid media URL(s)' };
    }
    return null;
  }

  /** Plays the message's delivery script as signed status callbacks, in order (Twilio's are asynchronous too). */
  async function deliver(message: FakeTwilioMessage) {
    const cb = options.statusCallbacks;
    if (!cb || !message.statusCallback) return;
    const scripted = deliveryScripts.get(message.to)?.shift();
    // Meta decides these, whatever else would have happened: free text to a contact silent for the window fails
    // (63016); a template whose parameters do not match its placeholders fails (63028, after acceptance).
    const script = outsideWindow(message)
      ? OUTSIDE_WINDOW
      : parameterMismatch(message)
        ? PARAMETER_MISMATCH
        : (scripted ?? DEFAULT_SCRIPT);
    callbacksInFlight += 1;
    try {
      for (const step of script) {
        const { status, errorCode } = typeof step === 'string' ? { status: step, errorCode: undefined } : step;
        message.status = status;
        // date_sent is when Twilio handed the message on: a message that failed before that (or is still queued,
        // accepted or scheduled) has none, so a DateSent filter never lists it.
        if (SENT_STATUSES.has(status)) message.dateSent ??= new Date();
        if (SENT_STATUSES.has(status) && message.direction === 'outbound-api') message.price ??= priceOf(message);
        if (errorCode) message.errorCode = Number(errorCode);
        // The status changed at Twilio, but this callback never reaches us (our host was down past Twilio's retry).
        if (typeof step !== 'string' && step.dropCallback) continue;
        const params: Record<string, string> = {
          MessageSid: message.sid,
          MessageStatus: status,
          AccountSid: message.accountSid,
          From: message.from,
          To: message.to,
          ApiVersion: '2010-04-01',
          ...(message.messagingServiceSid ? { MessagingServiceSid: message.messagingServiceSid } : {}),
          ...(errorCode ? { ErrorCode: errorCode } : {}),
        };
        const signed = cb.sign(message.statusCallback, accounts.get(message.accountSid) ?? '', params);
        const response = await fetch(cb.rewrite(message.statusCallback), {
          method: 'POST',
          headers: signed.headers,
          body: signed.body,
        }).catch(() => null);
        if (!response || response.status >= 500) break; // Twilio would retry later; tests see the gap
      }
    } finally {
      callbacksInFlight -= 1;
      for (const listener of listeners) listener();
    }
  }

  /** A registered Content template sent with ContentVariables whose keys are not exactly its placeholders. */
  function parameterMismatch(m: FakeTwilioMessage): boolean {
    const placeholders = m.contentSid ? contents.get(m.contentSid) : undefined;
    if (!placeholders) return false;
    const given = Object.keys(m.contentVariables ?? {}).sort();
    return given.join(',') !== [...placeholders].sort().join(',');
  }

  /** Free-form (no ContentSid) WhatsApp message whose recipient has not written to this sender within the window. */
  function outsideWindow(m: FakeTwilioMessage): boolean {
    if (!m.from.startsWith('whatsapp:') || m.contentSid) return false;
    const windowMs = options.whatsappWindowMs ?? 24 * 3_600_000;
    const last = (receivedByPair.get(pairKey(m.to, m.from)) ?? [])
      .filter((r) => r.accountSid === m.accountSid)
      .reduce((max, r) => Math.max(max, r.dateCreated.getTime()), -Infinity);
    return Date.now() - last >= windowMs;
  }

  /** A Message resource as Twilio's REST API renders it (dates RFC 2822, counts as strings). */
  function resource(m: FakeTwilioMessage) {
    const base = `/2010-04-01/Accounts/${m.accountSid}/Messages/${m.sid}`;
    return {
      sid: m.sid,
      account_sid: m.accountSid,
      from: m.from,
      to: m.to,
      body: m.body,
      status: m.status,
      num_segments: '1',
      num_media: String(m.media.length),
      direction: m.direction,
      api_version: '2010-04-01',
      messaging_service_sid: m.messagingServiceSid ?? null,
      date_created: rfc2822(m.dateCreated),
      date_updated: rfc2822(m.dateSent ?? m.dateCreated),
      date_sent: m.dateSent ? rfc2822(m.dateSent) : null,
      error_code: m.errorCode,
      error_message: null,
      price: m.price ?? null,
      price_unit: 'USD',
      uri: `${base}.json`,
      subresource_uris: { media: `${base}/Media.json`, feedback: `${base}/Feedback.json` },
    };
  }

  function mediaPage(m: FakeTwilioMessage) {
    const uri = `/2010-04-01/Accounts/${m.accountSid}/Messages/${m.sid}/Media.json`;
    return {
      media_list: m.media.map((media) => ({
        sid: media.sid,
        account_sid: m.accountSid,
        parent_sid: m.sid,
        content_type: media.contentType,
        date_created: rfc2822(m.dateCreated),
        date_updated: rfc2822(m.dateCreated),
        uri: `/2010-04-01/Accounts/${m.accountSid}/Messages/${m.sid}/Media/${media.sid}.json`,
      })),
      page: 0,
      page_size: 50,
      start: 0,
      end: Math.max(0, m.media.length - 1),
      uri: `${uri}?PageSize=50&Page=0`,
      first_page_uri: `${uri}?PageSize=50&Page=0`,
      next_page_uri: null,
      previous_page_uri: null,
    };
  }

  /**
   * GET Messages.json as Twilio documents it: newest first by DateSent; filters To, From and DateSent (exact day),
   * DateSent< (on or before) and DateSent> (on or after), each a GMT day `YYYY-MM-DD` or an instant (the SDKs
   * send `YYYY-MM-DDTHH:mm:ssZ`); PageSize 1–1000 (default 50); PageToken cursors (`PA<sid>` after that message,
   * `PB<sid>` before it) so a page picks up where the last one ended while messages keep arriving.
   */
  function listMessages(res: ServerResponse, accountSid: string, url: URL) {
    const q = url.searchParams;
    const pageSizeText = q.get('PageSize') ?? '50';
    const pageSize = Number(pageSizeText);
    if (!/^\d+$/.test(pageSizeText) || pageSize < 1 || pageSize > 1000) {
      return sendJson(res, 400, {
        code: 20001,
        message: 'PageSize must be an integer between 1 and 1000',
        more_info: 'https://www.twilio.com/docs/errors/20001',
        status: 400,
      });
    }
    const pageText = q.get('Page') ?? '0';
    if (!/^\d+$/.test(pageText))
      return sendJson(res, 400, {
        code: 20001,
        message: 'Page must be a non-negative integer',
        more_info: 'https://www.twilio.com/docs/errors/20001',
        status: 400,
      });
    const page = Number(pageText);
    const filters: ((m: FakeTwilioMessage) => boolean)[] = [];
    for (const [key, op] of [
      ['DateSent', '='],
      ['DateSent<', '<'],
      ['DateSent>', '>'],
    ] as const) {
      const value = q.get(key);
      if (value === null) continue;
      const bound = parseDateFilter(value);
      if (!bound)
        return sendJson(res, 400, {
          code: 20001,
          message: `Invalid value for ${key}`,
          more_info: 'https://www.twilio.com/docs/errors/20001',
          status: 400,
        });
      // A message not sent yet has no date_sent, so no DateSent filter matches it.
      // Twilio's dates have whole seconds: compare at that precision.
      const t = (m: FakeTwilioMessage) => (m.dateSent ? Math.floor(m.dateSent.getTime() / 1000) * 1000 : NaN);
      filters.push(
        op === '='
          ? (m) => t(m) >= bound.from && t(m) < bound.to
          : op === '<'
            ? (m) => t(m) < bound.to
            : (m) => t(m) >= bound.from,
      );
    }
    const to = q.get('To');
    const from = q.get('From');
    const all = [...sent, ...received]
      .filter(
        (m) =>
          m.accountSid === accountSid &&
          (!to || m.to === to) &&
          (!from || m.from === from) &&
          filters.every((f) => f(m)),
      )
      .sort((a, b) => sortKey(b) - sortKey(a) || (a.sid < b.sid ? 1 : a.sid > b.sid ? -1 : 0));
    const token = q.get('PageToken');
    let start = page * pageSize;
    if (token) {
      const at = all.findIndex((m) => m.sid === token.slice(2));
      if (!/^P[AB]/.test(token) || at < 0)
        return sendJson(res, 400, {
          code: 20001,
          message: 'Invalid PageToken',
          more_info: 'https://www.twilio.com/docs/errors/20001',
          status: 400,
        });
      start = token.startsWith('PA') ? at + 1 : Math.max(0, at - pageSize);
    }
    const items = all.slice(start, start + pageSize);
    const base = new URLSearchParams();
    for (const key of ['To', 'From', 'DateSent', 'DateSent<', 'DateSent>'])
      if (q.get(key) !== null) base.set(key, q.get(key)!);
    base.set('PageSize', String(pageSize));
    const uriOf = (extra: Record<string, string>) => {
      const params = new URLSearchParams(base);
      for (const [k, v] of Object.entries(extra)) params.set(k, v);
      return `${url.pathname}?${params.toString()}`;
    };
    const hasMore = start + items.length < all.length;
    return sendJson(res, 200, {
      messages: items.map(resource),
      page,
      page_size: pageSize,
      start,
      end: start + Math.max(0, items.length - 1),
      uri: `${url.pathname}?${url.searchParams.toString()}`,
      first_page_uri: uriOf({ Page: '0' }),
      next_page_uri:
        hasMore && items.length > 0 ? uriOf({ Page: String(page + 1), PageToken: `PA${items.at(-1)!.sid}` }) : null,
      previous_page_uri:
        page > 0 && items.length > 0 ? uriOf({ Page: String(page - 1), PageToken: `PB${items[0]!.sid}` }) : null,
    });
  }

  return {
    url: server.url,
    sent,
    received,
    /** Records a message a customer sent (Twilio's log has it whether or not its webhook reaches us). */
    receive(message: {
      sid: string;
      accountSid: string;
      from: string;
      to: string;
      body: string;
      dateCreated?: Date;
      media?: { contentType: string; data?: Buffer }[];
    }) {
      const dateCreated = message.dateCreated ?? new Date();
      const { media, ...rest } = message;
      const entry: FakeTwilioMessage = {
        ...rest,
        statusCallback: null,
        contentSid: null,
        contentVariables: null,
        status: 'received',
        dateCreated,
        dateSent: dateCreated,
        direction: 'inbound',
        errorCode: null,
        mediaUrl: [],
        media: (media ?? []).map((m) => ({
          sid: `ME${randomBytes(16).toString('hex')}`,
          contentType: m.contentType,
          ...(m.data ? { data: m.data } : {}),
        })),
      };
      received.push(entry);
      const key = pairKey(entry.from, entry.to);
      const pair = receivedByPair.get(key);
      if (pair) pair.push(entry);
      else receivedByPair.set(key, [entry]);
    },
    mediaRequests,
    requests,
    cdnRequests,
    typing,
    /** A Messaging Service and its sender pool (`whatsapp:+1…`, `+1…`). */
    addMessagingService(sid: string, pool: string[]) {
      services.set(sid, pool);
    },
    /** The typing endpoint answers 503 while set (the public beta having a bad day). */
    set typingOutage(value: boolean) {
      typingOutage = value;
    },
    /** The URL Twilio would put in the webhook's MediaUrlN for a received message's n-th media. */
    mediaUrl(message: { accountSid: string; sid: string }, n: number) {
      const item = received.find((m) => m.accountSid === message.accountSid && m.sid === message.sid)?.media[n];
      return item
        ? `${server.url}/2010-04-01/Accounts/${message.accountSid}/Messages/${message.sid}/Media/${item.sid}`
        : null;
    },
    /** A Content template with these placeholders (`['1', '2']`): sends with other ContentVariables keys fail 63028. */
    addContent(contentSid: string, placeholders: string[]) {
      contents.set(contentSid, placeholders);
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
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`fake Twilio: condition not met within ${timeoutMs} ms (${sent.length} messages)`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(listener);
        };
        const listener = () => {
          check();
        };
        if (!check()) listeners.add(listener);
      });
    },
    close: () => server.close(),
  };
}

export type FakeTwilio = Awaited<ReturnType<typeof startFakeTwilio>>;
