import { AuditEvent } from '@jit/domain';
import { jsonPayload, toNotification } from './notification.mapper';
import { parseNotificationsConfig, webhookWants } from './notifications.config';
import { slackPayload } from './slack-message.mapper';

const ITEM = '0b7c6f2e-3a53-4f6e-9d0e-5d2f8b1c4a10';
const CAMPAIGN = '5f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b';

function event(type: AuditEvent['type'], data: Record<string, unknown>): AuditEvent {
  return { seq: 7, id: 'e7', occurredAt: new Date('2027-01-12T09:00:00Z'), type, grantId: null, cloud: 'aws', principal: 'arn:aws:iam::1:user/<alice>', actor: 'system:review', data, prevHash: '0', hash: '1' };
}

describe('review notifications', () => {
  const escalated = event('review.item_escalated', { campaignId: CAMPAIGN, itemId: ITEM, access: 'AdministratorAccess', scope: 'aws:1', escalatedTo: ['security-leads'], endsAt: '2027-01-15T09:00:00.000Z' });
  const reminder = event('review.reminder_sent', { campaignId: CAMPAIGN, definition: 'quarterly', pending: 4, reviewerGroups: ['sre'], endsAt: '2027-01-15T09:00:00.000Z' });

  it('should make an escalation a high-severity notification with a link to the item, and a reminder one with a link to the campaign', () => {
    const n = toNotification(escalated)!;
    expect(n).toMatchObject({ type: 'review.escalated', severity: 'high' });
    const json = jsonPayload(n, 'https://jit.example.com/');
    expect(json.links).toEqual({ review: `https://jit.example.com/v1/reviews/items/${ITEM}` });
    expect(json.summary).toBe('Access review item for arn:aws:iam::1:user/<alice> (AdministratorAccess on aws:1) had no decision by 2027-01-15T09:00:00.000Z: escalated to security-leads.');
    const r = jsonPayload(toNotification(reminder)!, 'https://jit.example.com');
    expect(r).toMatchObject({ type: 'review.reminder', links: { review: `https://jit.example.com/v1/reviews/campaigns/${CAMPAIGN}` } });
    expect(r.summary).toMatch(/4 items still need a decision from sre/);
    const slack = slackPayload(n, 'https://jit.example.com');
    expect(JSON.stringify(slack.blocks)).toContain(`<https://jit.example.com/v1/reviews/items/${ITEM}|Open review>`);
    // The principal is escaped for Slack, as every text from an event.
    expect(JSON.stringify(slack.blocks)).toContain('user/&lt;alice&gt;');
  });

  it('should never link a text the event carries that is not the broker\'s own id', () => {
    const forged = event('review.item_escalated', { itemId: 'x|<https://evil.example>', campaignId: null });
    expect(jsonPayload(toNotification(forged)!, 'https://jit.example.com').links).toEqual({});
  });

  it('should route review events by group to a webhook with approverGroups', () => {
    const config = parseNotificationsConfig(
      ['webhooks:', '  - name: leads', '    url: https://hooks.example.com/leads', '    events: [review.escalated, review.reminder]', '    approverGroups: [security-leads]'].join('\n'),
      'notifications.yaml',
      {},
    );
    const [hook] = config.webhooks;
    expect(webhookWants(hook, toNotification(escalated)!)).toBe(true);
    expect(webhookWants(hook, toNotification(reminder)!)).toBe(false);
  });
});
