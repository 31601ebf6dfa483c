import { AuditEvent, AuditEventType } from '@jit/domain';
import { toNotification } from './notification.mapper';
import { SLACK_TEXT_MAX, SlackMessage, slackPayload } from './slack-message.mapper';

const GRANT = '3b2f0a4e-6c1d-4e8f-9a7b-5c4d3e2f1a0b';
/** What a requester could put in an actor name, a principal id or a rule's error text. */
const HOSTILE = '*bold* _it_ ~s~ `code` <https://evil.example|click here> <!here> <!channel> @channel <@U024BE7LH> #general :skull: &amp;';

function event(type: AuditEventType, data: Record<string, unknown>, fields: Partial<AuditEvent> = {}): AuditEvent {
  return {
    seq: 42,
    id: '9d7c1f7e-0a51-4b1e-8f0e-1c2d3e4f5a6b',
    occurredAt: new Date('2030-01-01T10:00:00.000Z'),
    type,
    grantId: GRANT,
    cloud: 'gcp',
    principal: 'user:dev@example.com',
    actor: 'broker',
    data,
    prevHash: '0'.repeat(64),
    hash: '1'.repeat(64),
    ...fields,
  };
}

const message = (e: AuditEvent, publicUrl?: string): SlackMessage => slackPayload(toNotification(e)!, publicUrl);

/** Every text object and the fallback, with its type. */
function texts(m: SlackMessage): { type: string; text: string }[] {
  const out: { type: string; text: string }[] = [{ type: 'fallback', text: m.text }];
  for (const b of m.blocks) {
    if (b.type === 'context') out.push(...b.elements);
    else out.push(b.text);
  }
  return out;
}

describe('slackPayload', () => {
  it('should flag high severity, name the grant, who and the link', () => {
    const m = message(event('policy.break_glass', { severity: 'high' }, { actor: 'mallory' }), 'https://jit.example.com');
    expect(m.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: ':rotating_light: Break-glass access used', emoji: true } });
    expect(m.blocks).toContainEqual({
      type: 'context',
      elements: [
        { type: 'plain_text', text: `Grant: ${GRANT}`, emoji: false },
        { type: 'plain_text', text: 'By: mallory', emoji: false },
      ],
    });
    expect(m.blocks).toContainEqual({ type: 'section', text: { type: 'mrkdwn', text: `<https://jit.example.com/v1/grants/${GRANT}|Open grant>` } });
    expect(m.text).toBe(`:rotating_light: *Break-glass access used* · grant ${GRANT} · <https://jit.example.com/v1/grants/${GRANT}|Open grant>`);
  });

  it('should not flag info notifications', () => {
    const m = message(event('grant.activated', {}));
    expect(m.text).toBe(`*Access granted* · grant ${GRANT}`);
    expect(m.blocks).toHaveLength(3);
  });

  it.each([
    ['an actor name', event('policy.break_glass', { severity: 'high' }, { actor: HOSTILE })],
    ['a principal id', event('grant.activated', {}, { principal: HOSTILE })],
    ['a rule name and a target kind', event('grant.requested', { kind: HOSTILE, approval: { mode: 'approvals', rule: HOSTILE, required: 1 } })],
    ['a cloud error', event('grant.revoke_failed', { severity: 'high', error: HOSTILE, attempt: 6 })],
    ['a denial reason', event('grant.denied', { reason: HOSTILE })],
  ])('should send %s as plain text only, escaped, and keep it out of the fallback', (_, e) => {
    const all = texts(message(e, 'https://jit.example.com'));
    const carrying = all.filter((t) => t.text.includes('*bold* _it_ ~s~ `code`'));
    expect(carrying.length).toBeGreaterThan(0);
    for (const t of carrying) {
      expect(t.type).toBe('plain_text');
      expect(t.text).toContain('&lt;https://evil.example|click here&gt; &lt;!here&gt; &lt;!channel&gt; @channel &lt;@U024BE7LH&gt;');
      expect(t.text).toContain('&amp;amp;');
    }
    for (const t of all) {
      expect(t.text).not.toContain('<https://evil.example');
      expect(t.text).not.toContain('<!');
      if (t.type !== 'plain_text') expect(t.text).not.toMatch(/bold|evil|@channel|#general|:skull:/);
    }
  });

  it('should keep every text object within Slack\'s limit without cutting an escape in half', () => {
    const m = message(event('grant.activated', {}, { principal: '<&>'.repeat(2000), actor: 'a&'.repeat(2000) }));
    for (const t of texts(m)) {
      expect(t.text.length).toBeLessThanOrEqual(SLACK_TEXT_MAX);
      expect(t.text).not.toMatch(/&(?!amp;|lt;|gt;)/);
    }
  });
});
