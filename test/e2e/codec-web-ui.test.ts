import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inboundWorkflowId } from '../../src/contract';
import { codecAudit } from '../../src/db/schema';
import { eventually, randomPhone, type Harness } from '../support/harness';
import { CHROMIUM } from '../support/browser';
import type { BrowserContext } from 'playwright-core';
import { SCREENSHOTS, startWebUi, type WebUi } from '../support/web-ui';

let ui: WebUi;
let h: Harness;
beforeAll(async () => {
  if (!CHROMIUM) return;
  ui = await startWebUi({ MESSAGE_DEBOUNCE: '100ms', NPS_WAIT: '0s' });
  h = ui.h;
}, 180_000);
afterAll(async () => {
  await ui?.close();
});

const operatorBrowser = () => ui.operatorBrowser();
const signIn: WebUi['signIn'] = (context, apiKey) => ui.signIn(context, apiKey);
const openWorkflow = (context: BrowserContext, workflowId: string, name: string) =>
  ui.openWorkflow(context, workflowId, name);

describe.skipIf(!CHROMIUM)('the Web UI reads payloads through the codec endpoint (issue 11, B)', () => {
  it('ciphertext without a session, plaintext for a supervisor, 403 for an agent; every decode audited', async () => {
    const tenant = await h.createTestTenant();
    const supervisor = await h.createOperator(tenant, 'SUPERVISOR');
    const agent = await h.createOperator(tenant, 'AGENT');
    const phone = randomPhone();
    const body = `quero negociar minha dívida ${Math.random().toString(36).slice(2, 8)}`;
    const { messageSid } = await h.postInbound(tenant, { body, from: `whatsapp:${phone}` });
    const workflowId = inboundWorkflowId(messageSid);
    await h.client.workflow.getHandle(workflowId).result();

    // No session: the codec answers 401, the UI shows the payload as stored (encrypted).
    const anonymous = await operatorBrowser();
    const none = await openWorkflow(anonymous, workflowId, 'anonymous');
    expect(none.codecStatus).toBe(401);
    expect(none.text).not.toContain(body);
    expect(none.text).not.toContain(phone);
    // What the UI shows instead: the stored payload, `encoding` = base64 of binary/encrypted.
    expect(none.text).toContain(Buffer.from('binary/encrypted').toString('base64'));
    expect(none.text).toContain('Codec Server could not connect');
    await anonymous.close();

    // A supervisor's session: the UI sends the cookie and shows the input in plaintext.
    const supervisorBrowser = await operatorBrowser();
    expect(await signIn(supervisorBrowser, supervisor.apiKey)).toContain('(SUPERVISOR');
    const plain = await openWorkflow(supervisorBrowser, workflowId, 'supervisor');
    expect(plain.codecStatus).toBe(200);
    await plain.page.waitForFunction(
      `document.documentElement.outerHTML.includes(${JSON.stringify(body)})`,
      undefined,
      { timeout: 15_000 },
    );
    expect(await plain.page.content()).toContain(`whatsapp:${phone}`);
    // The result card too (its own decode request).
    await plain.page.waitForFunction(
      `document.documentElement.outerHTML.includes('conversationWorkflowId')`,
      undefined,
      { timeout: 15_000 },
    );
    await plain.page.screenshot({ path: path.join(SCREENSHOTS, 'codec-supervisor-result.png'), fullPage: true });
    await supervisorBrowser.close();

    // An agent's session: 403, and the page stays encrypted.
    const agentBrowser = await operatorBrowser();
    expect(await signIn(agentBrowser, agent.apiKey)).toContain('(AGENT');
    const refused = await openWorkflow(agentBrowser, workflowId, 'agent');
    expect(refused.codecStatus).toBe(403);
    expect(refused.text).not.toContain(body);
    expect(refused.text).toContain(Buffer.from('binary/encrypted').toString('base64'));
    await agentBrowser.close();

    const audit = await eventually(
      async () => {
        const rows = await h.db
          .select()
          .from(codecAudit)
          .where(and(eq(codecAudit.tenantId, tenant.tenantId), eq(codecAudit.action, 'decode')));
        return rows.some((r) => r.userId === agent.id) ? rows : null;
      },
      10_000,
      'the audit rows',
    );
    const bySupervisor = audit.filter((r) => r.userId === supervisor.id);
    expect(bySupervisor.length).toBeGreaterThan(0);
    expect(
      bySupervisor.every(
        (r) => r.outcome === 'allowed' && r.via === 'session' && r.namespace === 'default' && r.origin === ui.uiOrigin,
      ),
    ).toBe(true);
    expect(bySupervisor.some((r) => r.encrypted > 0 && r.keyIds.includes(h.payloadKeys![0]!.id))).toBe(true);
    expect(audit.filter((r) => r.userId === agent.id).every((r) => r.outcome === 'forbidden')).toBe(true);
  });
});
