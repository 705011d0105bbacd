import type { AiTurnOutput, AlertSpec } from '../contract/ai';

export type { AlertSpec } from '../contract/ai';

/** Which AI turn outcomes need a supervisor's eyes (I8): urgent or very negative. */
export function alertsForTurn(output: AiTurnOutput): AlertSpec[] {
  const alerts: AlertSpec[] = [];
  if (output.urgency === 'critical' || output.urgency === 'high') {
    alerts.push({
      type: 'urgent',
      severity: output.urgency,
      message: `Customer message classified as ${output.urgency} urgency (intent ${output.intent})`,
    });
  }
  if (output.sentiment === 'very_negative') {
    alerts.push({
      type: 'negative_sentiment',
      severity: 'high',
      message: `Very negative sentiment (intent ${output.intent})`,
    });
  }
  return alerts;
}
