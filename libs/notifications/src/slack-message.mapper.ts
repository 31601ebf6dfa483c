import { Notification, NotificationType } from './notification';
import { grantLink, reviewLink, summarize } from './notification.mapper';

const TITLES: Record<NotificationType, string> = {
  'approval.needed': 'Approval needed',
  'approval.decided': 'Approval decided',
  'grant.granted': 'Access granted',
  'grant.revoke_failed': 'Revocation failed',
  'break_glass.used': 'Break-glass access used',
  'review.reminder': 'Access review ending',
  'review.escalated': 'Access review item escalated',
};

/** Slack rejects a message (400 invalid_blocks) whose text object is longer than this. */
export const SLACK_TEXT_MAX = 3000;

interface PlainText {
  type: 'plain_text';
  text: string;
  emoji: false;
}
interface Mrkdwn {
  type: 'mrkdwn';
  text: string;
}
export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji: true } }
  | { type: 'section'; text: PlainText | Mrkdwn }
  | { type: 'context'; elements: PlainText[] };

export interface SlackMessage {
  /** Notification and fallback text: our title, the grant id and our link only, never a user-supplied value. */
  text: string;
  blocks: SlackBlock[];
}

/**
 * A Slack incoming-webhook message: the summary and a link, never the event's data.
 *
 * Everything a user chose (principal ids, actor names, rule and target names, cloud error
 * text) goes into `plain_text` objects only, which Slack shows as typed: no `*bold*`, no
 * `<url|label>` links, no `@channel`/`<!here>` mentions, no `#channel` links, no `:emoji:`.
 * `&`, `<` and `>` are escaped there too, as Slack reads them as control characters in every
 * text object. Only our own strings (titles, the grant link under `JIT_PUBLIC_URL`) use mrkdwn.
 * Code spans were not used: a principal or actor may contain a backtick, which would close
 * the span and let the rest be formatted.
 */
export function slackPayload(n: Notification, publicUrl?: string): SlackMessage {
  const e = n.event;
  const link = grantLink(e, publicUrl) ?? reviewLink(e, publicUrl);
  const label = e.grantId ? 'Open grant' : 'Open review';
  const alarm = n.severity === 'high' ? ':rotating_light: ' : '';
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: `${alarm}${TITLES[n.type]}`, emoji: true } },
    { type: 'section', text: plain(summarize(n)) },
    { type: 'context', elements: [...(e.grantId ? [plain(`Grant: ${e.grantId}`)] : []), plain(`By: ${e.actor}`)] },
  ];
  if (link) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `<${link}|${label}>` } });
  // The grant id is the broker's own UUID (a column of type uuid), so it is safe in mrkdwn.
  const fallback = [`${alarm}*${TITLES[n.type]}*`, e.grantId && `grant ${e.grantId}`, link && `<${link}|${label}>`].filter(Boolean).join(' · ');
  return { text: fallback, blocks };
}

function plain(value: string): PlainText {
  return { type: 'plain_text', text: clip(slackEscape(value)), emoji: false };
}

/** Slack reads `&`, `<` and `>` as markup (links, mentions) in every text object. */
export const slackEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Within Slack's limit, never cutting an escape such as `&amp;` in half. */
function clip(s: string): string {
  if (s.length <= SLACK_TEXT_MAX) return s;
  return s.slice(0, SLACK_TEXT_MAX - 1).replace(/&[a-z]{0,3}$/, '') + '…';
}
