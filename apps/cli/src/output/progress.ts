import type { GrantProgress } from '../core/await-grant';
import { compactDuration, relativeTime } from './relative-time';
import { Paint } from './grant-text';
import { stateColour } from './style';

/** How often a line says "still waiting" when nothing changed. */
const STILL_WAITING_EVERY_MS = 30_000;

/**
 * A printer of awaitGrant's progress for people, one line per change on stderr:
 * `[  12s] pending_approval: 1/2 approvals (dave-approver)`; and a line every 30 s of silence.
 */
export function progressPrinter(write: (line: string) => void, paint: Paint): (p: GrantProgress) => void {
  let lastLineAt = 0;
  const stamp = (ms: number) => paint('gray', `[${compactDuration(ms).padStart(6)}]`);
  return (p) => {
    const g = p.grant;
    if (p.type === 'state') {
      const extra =
        g.state === 'pending_approval' && g.approvalDeadline
          ? ` (rule ${g.decision?.rule}, approvers ${g.decision?.approverGroups.join(', ')}, deadline ${relativeTime(g.approvalDeadline)})`
          : g.state === 'active' && g.expiresAt
            ? ` until ${g.expiresAt} (${relativeTime(g.expiresAt)})`
            : g.endReason
              ? ` (${g.endReason})`
              : '';
      write(`${stamp(p.waitedMs)} grant ${g.id} ${paint(stateColour(g.state), g.state)}${extra}\n`);
    } else if (p.type === 'approvals') {
      const last = g.approvals.filter((a) => a.decision === 'approved').at(-1);
      write(`${stamp(p.waitedMs)} approvals ${p.received}/${p.required}${last ? ` (latest: ${last.approver})` : ''}\n`);
    } else if (p.waitedMs - lastLineAt < STILL_WAITING_EVERY_MS) {
      return;
    } else {
      write(`${stamp(p.waitedMs)} still ${g.state}\n`);
    }
    lastLineAt = p.waitedMs;
  };
}
