import type { WorkflowHandle } from '@temporalio/client';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignWorkflowId } from '../../src/contract';
import { upsertTenantPolicy } from '../../src/db/outbound/policy';
import { sendDecisions } from '../../src/db/schema';
import { updateTenant } from '../../src/db/tenants/tenants';
import { iso } from '../../src/domain/wake-reason';
import { EncryptionCodec } from '../../src/temporal/payload-codec';
import { CHROMIUM, screenshot } from '../support/browser';
import { launchCampaign } from '../support/campaigns';
import { conversationOf } from '../support/conversation';
import { echoHandler, type ChatRequest } from '../support/fake-openai';
import { eventually, randomPhone, type Harness } from '../support/harness';
import { startWebUi, type WebUi } from '../support/web-ui';

// Issue 21 F: what the Temporal Web UI shows about a waiting workflow (timer summaries, current details), through
// the client's view of the same data, and in Chromium for a campaign send held by the outbound policy.
let ui: WebUi;
let h: Harness;
beforeAll(async () => {
  ui = await startWebUi({ MESSAGE_DEBOUNCE: '100ms', NPS_WAIT: '0s' });
  h = ui.h;
}, 180_000);
afterAll(async () => {
  await ui?.close();
});

/** The summaries of the run's started timers, decoded as the Web UI decodes them (through the payload codec). */
async function timerSummaries(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  const payloads = (history.events ?? [])
    .filter((e) => e.timerStartedEventAttributes && e.userMetadata?.summary)
    .map((e) => e.userMetadata!.summary!);
  const keys = h.env.CAUSEWAY_PAYLOAD_KEYS;
  const decoded = keys ? await new EncryptionCodec(keys).decode(payloads) : payloads;
  return decoded.map((p) => JSON.parse(Buffer.from(p.data!).toString('utf8')) as string);
}

/** The workflow's current details, as the Web UI asks for them (the SDK's built-in metadata query). */
async function currentDetails(handle: WorkflowHandle): Promise<string> {
  const metadata = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails;
}

/**
 * A tenant narrowing of the collection hours that is closed now and lies inside the law's weekday window, so the
 * send is held (never refused) at any hour of any day. The narrowing used to open ten minutes from now: after 19:50
 * São Paulo time it fell outside the law's 08:00–20:00 entirely, the gate found no instant to hold until and refused
 * the send (CI at 21:17 São Paulo time). An hour of 09:00–10:00 or 15:00–16:00, whichever does not hold "now".
 */
function narrowingClosedNow(): string {
  const hour = Number(
    new Intl.DateTimeFormat('en-GB', { timeZone: 'America/Sao_Paulo', hourCycle: 'h23', hour: '2-digit' }).format(
      new Date(),
    ),
  );
  return hour >= 8 && hour < 12 ? 'daily 15:00-16:00' : 'daily 09:00-10:00';
}

async function heldCampaign() {
  const tenant = await h.createTestTenant();
  // The debt's own template, not the identity request (issue 23 E), as in test/e2e/policy.test.ts.
  await updateTenant(h.db, tenant.slug, { identityCheck: 'off' });
  await upsertTenantPolicy(h.db, tenant.tenantId, { collectionHours: narrowingClosedNow() });
  // A São Paulo number: the law's window (Lei 15.426/2014) narrowed by the tenant; held whatever the weekday.
  const phone = `+5511${String(900_000_000 + Math.floor(Math.random() * 99_999_999))}`;
  const campaign = await launchCampaign(h, tenant, [{ phone, name: 'Ana Devedora' }], { kind: 'collection' });
  const handle = h.client.workflow.getHandle(campaignWorkflowId(campaign.campaignId));
  const decision = await eventually(
    async () => {
      const [row] = await h.db.select().from(sendDecisions).where(eq(sendDecisions.campaignId, campaign.campaignId));
      return row?.decision === 'hold' ? row : null;
    },
    20_000,
    'the held send',
  );
  const until = iso(decision.holdUntil!.getTime());
  const summary = await eventually(
    async () => (await timerSummaries(handle)).find((s) => s.startsWith(`held until ${until}`)) ?? null,
    20_000,
    'the campaign timer that says why',
  );
  return { tenant, phone, handle, until, summary, reason: decision.reason! };
}

describe('the Temporal Web UI says why a workflow waits (issue 21 F)', () => {
  it("a conversation's idle timer and current details: which deadline, when, no phone or text", async () => {
    const tenant = await h.createTestTenant();
    const phone = randomPhone();
    const body = `quero falar da minha conta ${Math.random().toString(36).slice(2, 8)}`;
    const { messageSid } = await h.postInbound(tenant, { body, from: `whatsapp:${phone}` });
    const handle = h.client.workflow.getHandle(await conversationOf(h, messageSid));
    try {
      const idle = await eventually(
        async () => (await timerSummaries(handle)).find((s) => s.startsWith('idle nudge at')) ?? null,
        20_000,
        'the idle timer',
      );
      expect(idle).toMatch(/^idle nudge at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      // The debounce wait before the turn said what it was too.
      expect(await timerSummaries(handle)).toContainEqual(expect.stringMatching(/^debounce: answer the burst at /));
      const details = await eventually(
        async () => {
          const d = await currentDetails(handle);
          return d.includes('idle nudge at') && d.includes('last send') ? d : null;
        },
        10_000,
        'the current details',
      );
      expect(details).toContain('### Conversation PROGRESS');
      expect(details).toContain('**turns:** `1`');
      expect(details).toContain(`**next:** \`${idle}\``);
      expect(details).toMatch(/\*\*last send:\*\* `reply: sent \(\w+\)`/);
      for (const text of [idle, details]) {
        expect(text).not.toContain(phone);
        expect(text).not.toContain(phone.slice(1));
        expect(text).not.toContain(body);
      }
    } finally {
      await handle.terminate('test done').catch(() => undefined);
    }
  });

  it('a conversation handed to the desk: its SLA timer and the waiting period in the details', async () => {
    const tenant = await h.createTestTenant();
    const ask = `quero falar com uma pessoa ${Math.random().toString(36).slice(2, 8)}`;
    h.openai.setHandler((request: ChatRequest) =>
      [...request.messages].reverse().find((m) => m.role === 'user')?.content === ask
        ? {
            content: null,
            toolCalls: [
              { name: 'transfer_to_human', arguments: { department: 'support', reason: 'asked for a person' } },
            ],
          }
        : echoHandler(request),
    );
    const phone = randomPhone();
    const { messageSid } = await h.postInbound(tenant, { body: ask, from: `whatsapp:${phone}` });
    const handle = h.client.workflow.getHandle(await conversationOf(h, messageSid));
    try {
      const sla = await eventually(
        async () => (await timerSummaries(handle)).find((s) => s.startsWith('SLA first response due at')) ?? null,
        20_000,
        'the SLA timer',
      );
      expect(sla).toMatch(/^SLA first response due at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const details = await currentDetails(handle);
      expect(details).toContain('### Conversation HUMAN');
      expect(details).toContain(`**next:** \`${sla}\``);
      expect(details).toMatch(/\*\*desk:\*\* `customer waiting since .* \(first response\)`/);
      expect(details).toContain('**assigned agent:** `unassigned`');
      for (const text of [sla, details]) {
        expect(text).not.toContain(phone.slice(1));
        expect(text).not.toContain(ask);
      }
    } finally {
      h.openai.setHandler(echoHandler);
      await handle.terminate('test done').catch(() => undefined);
    }
  });

  it("a campaign send held by the policy: the campaign's timer and details give the hold's rule and instant", async () => {
    const { handle, until, summary, reason, phone } = await heldCampaign();
    try {
      expect(summary).toContain('contact hours');
      expect(summary).toMatch(/SP: Lei SP 15\.426\/2014/);
      expect(reason).toContain(summary.slice(`held until ${until} — `.length));
      const details = await eventually(
        async () => {
          const d = await currentDetails(handle);
          return d.includes(`**next:** \`held until ${until}`) ? d : null;
        },
        10_000,
        'the current details',
      );
      expect(details).toContain('### Campaign active');
      expect(details).toMatch(/\*\*targets:\*\* `1 total .* 1 open`/);
      expect(details).toMatch(new RegExp(`\\*\\*last policy decision:\\*\\* \`target [0-9a-f-]+: held until ${until}`));
      for (const text of [summary, details]) {
        expect(text).not.toContain(phone.slice(3));
        expect(text).not.toContain('Ana');
      }
    } finally {
      await handle.terminate('test done').catch(() => undefined);
    }
  });

  it.skipIf(!CHROMIUM)('in Chromium, the held campaign send shows the hold in its timer summary', async () => {
    const { tenant, handle, until, summary, phone } = await heldCampaign();
    try {
      const supervisor = await h.createOperator(tenant, 'SUPERVISOR');
      const context = await ui.operatorBrowser();
      // User metadata is a payload: the Web UI decodes it through the codec, for a supervisor's session.
      expect(await ui.signIn(context, supervisor.apiKey)).toContain('(SUPERVISOR');
      const { page } = await ui.openWorkflow(context, handle.workflowId, 'held-campaign', { running: true });
      // Locator waits, not a string predicate: the UI's Content-Security-Policy forbids eval.
      await page.getByText(`held until ${until}`).first().waitFor({ timeout: 20_000 });
      const text = await page.locator('body').innerText();
      expect(text).toContain(summary);
      expect(text).not.toContain(phone.slice(3));
      await screenshot(page, 'web-ui-held-campaign');
      // The current details, under the workflow's "User Metadata" tab (the UI asks the workflow's metadata query).
      await page.getByText('User Metadata', { exact: true }).click();
      // The UI renders the summary and the details as markdown, each in a sandboxed frame of its own.
      const details = await eventually(
        async () => {
          for (const frame of page.frames()) {
            const text = await frame
              .locator('body')
              .innerText({ timeout: 1_000 })
              .catch(() => '');
            if (text.includes('last policy decision')) return text;
          }
          return null;
        },
        20_000,
        'the current details in the Web UI',
      );
      expect(details).toContain(`held until ${until}`);
      expect(details).not.toContain(phone.slice(3));
      await screenshot(page, 'web-ui-held-campaign-details');
      await context.close();
    } finally {
      await handle.terminate('test done').catch(() => undefined);
    }
  });
});
