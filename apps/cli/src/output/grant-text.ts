import { GrantView, approvalsOf } from '../core/grant';
import { relativeTime } from './relative-time';
import { Colour, stateColour } from './style';

export type Paint = (colour: Colour, text: string) => string;

/** The target's fields after its kind, one `key=value` each (arrays joined with commas). */
export function targetSummary(target: GrantView['target']): string {
  return Object.entries(target)
    .filter(([k]) => k !== 'kind')
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.map(plain).join(',') : plain(v)}`)
    .join(' ');
}

function plain(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** When the grant ends (or ended, or how long a pending one asks for). */
export function endsText(g: GrantView, now: Date): string {
  if (g.endedAt) return `${g.endReason ?? g.state} ${relativeTime(g.endedAt, now)}`;
  if (g.expiresAt) return `expires ${relativeTime(g.expiresAt, now)}`;
  return `for ${g.duration}`;
}

/** `jit show`, `jit request` and the like: one grant for people. */
export function grantText(g: GrantView, paint: Paint, now: Date = new Date()): string {
  const { received, required } = approvalsOf(g);
  const lines: [string, string][] = [
    ['grant', g.id],
    ['state', paint(stateColour(g.state), g.state) + (g.endReason && g.endReason !== g.state ? ` (${g.endReason})` : '')],
    ['target', `${g.target.kind} ${targetSummary(g.target)}`],
    ['principal', `${g.principal.type} ${g.principal.id}`],
    ['requested', `by ${g.requestedBy} ${relativeTime(g.createdAt, now)}${g.justification ? `: ${g.justification}` : ''}`],
    ['window', `${g.duration}, ${g.startsAt ? `started ${relativeTime(g.startsAt, now)}, ` : ''}${endsText(g, now)}`],
  ];
  if (g.decision) lines.push(['rule', `${g.decision.rule} (${g.decision.mode}${required ? `, ${received}/${required} approvals from ${g.decision.approverGroups.join(', ')}` : ''})`]);
  for (const a of g.approvals) lines.push([a.decision, `by ${a.approver} ${relativeTime(a.at, now)}${a.comment ? `: ${a.comment}` : ''}`]);
  if (g.state === 'pending_approval' && g.approvalDeadline) lines.push(['deadline', relativeTime(g.approvalDeadline, now)]);
  if (g.lastError) lines.push(['error', typeof g.lastError === 'string' ? g.lastError : JSON.stringify(g.lastError)]);
  const width = Math.max(...lines.map(([k]) => k.length));
  return lines.map(([k, v]) => `${paint('bold', k.padEnd(width))}  ${v}`).join('\n') + '\n';
}
