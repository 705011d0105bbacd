/** @jsxImportSource hono/jsx */
import type { Hono } from 'hono';
import { ServiceError } from '../../services/errors';
import { whyMessage } from '../../services/messages';
import type { PolicyCheck } from '../../domain/policy/gate';
import type { AppDeps } from '../context';
import { notFoundPage, page } from './layout';
import type { ConsoleEnv } from './session';

/**
 * Issue 21 C: the console's message detail, why an outbound message went out (or was held or refused): the policy's
 * verdict and every check with its inputs, the rule table's version, who or what wrote the text (model, prompt
 * version, tokens; or the agent), the campaign or promise, the delivery status and Twilio's price. Scoped as
 * `GET /api/messages/:id/why` (`whyMessage`); anything else is the console's 404.
 */
export function whyPages(app: Hono<ConsoleEnv>, deps: AppDeps) {
  app.get('/messages/:id', async (c) => {
    const ref = c.req.param('id');
    if (!/^[0-9a-f-]{36}$/.test(ref)) return notFoundPage(c, 'message');
    const found = await whyMessage(deps.db, c.get('operator'), ref).catch((error: unknown) => {
      if (error instanceof ServiceError && error.code === 'not_found') return null;
      throw error;
    });
    if (!found) return notFoundPage(c, 'message');
    const { view: w, conversationId } = found;
    const d = w.decision;
    return page(
      c,
      'Why this message',
      <section id="why">
        <p>{conversationId ? <a href={`/console/conversations/${conversationId}`}>← Conversation</a> : null}</p>
        <h1>Why this message went out</h1>
        <dl class="facts">
          <dt>Message</dt>
          <dd>
            {w.messageId}
            {w.providerSid ? ` (${w.providerSid})` : ''}
          </dd>
          <dt>Sent by</dt>
          <dd id="why-sent-by">
            {w.sentBy}
            {w.agent ? ` · ${w.agent.name}` : ''}
          </dd>
          <dt>Delivery</dt>
          <dd id="why-delivery">
            {w.delivery.status}
            {w.delivery.errorCode ? ` (error ${w.delivery.errorCode})` : ''}
            {w.delivery.price ? ` · price ${w.delivery.price} ${w.delivery.priceUnit ?? ''}` : ''}
          </dd>
          {w.ai ? (
            <>
              <dt>Written by the AI</dt>
              <dd id="why-ai">
                {`${w.ai.provider}/${w.ai.model} · prompt version ${w.ai.promptVersionId ?? '—'} · tokens ${w.ai.promptTokens ?? '?'} in, ${w.ai.completionTokens ?? '?'} out`}
              </dd>
            </>
          ) : null}
          {w.campaignId ? (
            <>
              <dt>Campaign</dt>
              <dd>{w.campaignId}</dd>
            </>
          ) : null}
          {w.promiseId ? (
            <>
              <dt>Promise</dt>
              <dd>{w.promiseId}</dd>
            </>
          ) : null}
        </dl>
        {d ? (
          <>
            <h2 id="why-decision">
              {`Policy: ${d.decision.toUpperCase()} · ${d.purpose} (${d.sendPurpose}) · rules ${d.rulesVersion}`}
            </h2>
            <p class="muted">
              {d.businessInitiated
                ? 'Business-initiated: every rule applies.'
                : 'An answer in a conversation the customer opened: no rule holds it.'}
              {` Decided ${d.decidedAt}${d.holds ? ` after ${d.holds} hold(s)` : ''}.`}
            </p>
            <table id="why-checks">
              <thead>
                <tr>
                  <th>Check</th>
                  <th>Result</th>
                  <th>Detail</th>
                  <th>Inputs</th>
                </tr>
              </thead>
              <tbody>
                {(d.checks as unknown as PolicyCheck[]).map((check) => (
                  <tr data-check={check.name}>
                    <td>{check.name}</td>
                    <td class={`badge ${check.result}`}>{check.result}</td>
                    <td>{check.detail ?? ''}</td>
                    <td>
                      <code>{JSON.stringify(check.input)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        ) : (
          <p id="why-decision" class="muted">
            No policy decision recorded: sent before the outbound policy existed.
          </p>
        )}
      </section>,
    );
  });
}
