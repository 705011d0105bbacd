// The client side of the bench: signed webhooks posted as Twilio would, replies watched at the fake Twilio, and
// the three load patterns (one at a time, closed loop, open loop at a rate).
import { newMessageSid, signedWebhook } from '../src/integrations/signed-webhook';
import type { FakeTwilio } from '../test/support/fake-twilio';

export const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
};

/** Resolves `expect(to)` at the next message the fake Twilio accepts for `to` after the call. */
export function watchReplies(twilio: FakeTwilio) {
  const waiting = new Map<string, (() => void)[]>();
  let seen = twilio.sent.length;
  void twilio
    .waitFor(
      (sent) => {
        for (; seen < sent.length; seen += 1) {
          const list = waiting.get(sent[seen]!.to);
          const next = list?.shift();
          if (list && list.length === 0) waiting.delete(sent[seen]!.to);
          next?.();
        }
        return false;
      },
      2 ** 31 - 1,
    )
    .catch(() => undefined);
  return {
    expect(to: string, timeoutMs = 300_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
        const list = waiting.get(to) ?? [];
        list.push(() => {
          clearTimeout(timer);
          resolve();
        });
        waiting.set(to, list);
      });
    },
    /** Where the customers' messages are recorded before they are posted (Twilio's own log of them). */
    twilio,
  };
}
export type Replies = ReturnType<typeof watchReplies>;

export interface Sender {
  publicBaseUrl: string;
  accountSid: string;
  authToken: string;
  /** The tenant's WhatsApp number, without the `whatsapp:` prefix. */
  phone: string;
}

let customers = 0;
const CUSTOMER_BASE = 100_000_000 + Math.floor(Math.random() * 800) * 1_000_000;
/** A customer address not used before in this run (a new conversation). */
export const newCustomer = () => `whatsapp:+5511${CUSTOMER_BASE + (customers += 1)}`;

/** POSTs one signed inbound message to `base + path` (the signature covers `publicBaseUrl + path`). */
export async function postInbound(
  sender: Sender,
  base: string,
  path: string,
  from: string,
  headers: Record<string, string> = {},
  /** Records the message in the fake Twilio's log first, as Twilio does: the WhatsApp window is then open. */
  twilio?: FakeTwilio,
): Promise<number> {
  const params = {
    MessageSid: newMessageSid(),
    AccountSid: sender.accountSid,
    From: from,
    To: `whatsapp:${sender.phone}`,
    Body: 'olá',
    NumMedia: '0',
  };
  twilio?.receive({ sid: params.MessageSid, accountSid: sender.accountSid, from, to: params.To, body: params.Body });
  const request = signedWebhook({ publicBaseUrl: sender.publicBaseUrl, path, authToken: sender.authToken, params });
  const t0 = performance.now();
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { ...request.headers, ...headers },
    body: request.body,
  });
  await response.text();
  if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
  return performance.now() - t0;
}

/**
 * A pipeline under test: `one(from)` posts a message from `from` and resolves when its reply was sent. The message
 * is first recorded at the fake Twilio, as Twilio holds every message it delivers to us: the customer has written,
 * so the WhatsApp window is open and the reply is delivered. (Before 2026-12-07 it was not recorded, and every
 * Causeway reply in the throughput and slowai groups failed at the fake with 63016, outside the window: each
 * reply also paid the failure's status callback, alert and fallback lookups, about 7 statements more.)
 */
export type Pipeline = (from: string) => Promise<void>;

export function pipeline(
  sender: Sender,
  replies: Replies,
  base: string,
  path: string,
  headers: Record<string, string> = {},
): Pipeline {
  return async (from) => {
    const reply = replies.expect(from);
    await postInbound(sender, base, path, from, headers, replies.twilio);
    await reply;
  };
}

/** One message at a time, each from a new customer: inbound → reply latencies. */
export async function sequential(one: Pipeline, n: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const t0 = performance.now();
    await one(newCustomer());
    latencies.push(performance.now() - t0);
  }
  return latencies;
}

/**
 * Sustained rate: `concurrency` customers, each posting a new conversation's first message and waiting for its
 * reply before the next (an open loop far above capacity measures retry storms, not capacity). Replies completed
 * in `windowMs` after `warmupMs`, per second.
 */
export async function closedLoop(one: Pipeline, options: { concurrency: number; warmupMs: number; windowMs: number }) {
  const t0 = performance.now();
  const from = t0 + options.warmupMs;
  const to = from + options.windowMs;
  let done = 0;
  let total = 0;
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (performance.now() < to) {
        const started = performance.now();
        await one(newCustomer());
        total += 1;
        const end = performance.now();
        if (end >= from && end < to) {
          done += 1;
          latencies.push(end - started);
        }
      }
    }),
  );
  return {
    perSecond: done / (options.windowMs / 1000),
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    /** Every reply of the loop, warm-up and tail included (what the CPU measured around it paid for). */
    total,
    /** The replies counted in the window, and their latencies (to add turns up). */
    done,
    latencies,
  };
}

/** Open loop: message i posted at i / rate seconds whatever the earlier ones are doing; inbound → reply times. */
export async function openLoop(one: Pipeline, rate: number, seconds: number) {
  const count = Math.max(1, Math.round(rate * seconds));
  const started = performance.now();
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const wait = started + (i * 1000) / rate - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait)); // the schedule of an open loop, not a sync
      const t0 = performance.now();
      await one(newCustomer());
      latencies.push(performance.now() - t0);
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { rate, achieved: count / elapsed, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

/** Open loop of a call (e.g. one webhook or one bare start): its latencies. */
export async function atRate(count: number, perSecond: number, fn: (i: number) => Promise<unknown>) {
  const started = performance.now();
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const wait = started + (i * 1000) / perSecond - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait)); // the schedule of an open loop, not a sync
      const t0 = performance.now();
      await fn(i);
      latencies.push(performance.now() - t0);
    }),
  );
  return latencies;
}

/** The most events within any one second (every window starting at an event: the strictest reading). */
export function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i += 1) {
    while (j < sorted.length && sorted[j]! < sorted[i]! + 1000) j += 1;
    most = Math.max(most, j - i);
  }
  return most;
}
