import { GrantView, approvalsOf } from '../core/grant';

/** Which credential fields a grant may carry; never shown to the model unless the server allows it. */
const SECRET_NOTE =
  'The broker issued credentials for this grant, but this MCP server does not put secret values into the conversation. ' +
  'Run the command that needs them with `jit exec` in your tool-runner instead: it requests the access itself and hands the credentials to that command only.';

/**
 * The grant as the model should see it: the state in words first (what to do next), then the
 * grant without secret values. `showSecrets` is the server's `allowSecrets` option.
 */
export function summarize(grant: GrantView, showSecrets = false): { text: string; structured: Record<string, unknown> } {
  const { credentials, ...rest } = grant;
  const structured: Record<string, unknown> = { ...rest };
  if (credentials) structured.credentials = showSecrets ? credentials : Object.fromEntries(Object.keys(credentials).map((k) => [k, '(withheld)']));
  const lines = [stateLine(grant)];
  if (credentials && !showSecrets) lines.push(SECRET_NOTE);
  lines.push(JSON.stringify(structured, null, 2));
  return { text: lines.join('\n\n'), structured };
}

/** One sentence an agent can act on: active until when, pending on whom, or why it ended. */
export function stateLine(g: GrantView): string {
  const what = `grant ${g.id} (${g.target.kind} for ${g.principal.id})`;
  const { received, required } = approvalsOf(g);
  switch (g.state) {
    case 'pending_approval': {
      const groups = g.decision?.approverGroups.length ? ` from group(s) ${g.decision.approverGroups.join(', ')}` : '';
      const deadline = g.approvalDeadline ? `; the request is denied if not approved by ${g.approvalDeadline}` : '';
      return (
        `Pending approval: ${received} of ${required} approvals${groups}. Access is NOT granted yet. ` +
        `Ask a human approver to approve grant ${g.id} (for example \`jit approve ${g.id}\`), then check it again with get_grant or wait_for_grant${deadline}.`
      );
    }
    case 'active':
      return `Active: ${what} is granted until ${g.expiresAt ?? '(unknown)'}. Revoke it with revoke_grant as soon as the work is done.`;
    case 'provisioning':
      return `Provisioning: the broker approved ${what} and the cloud is applying it; check again shortly (wait_for_grant).`;
    case 'denied':
      return `Denied: ${what} will not be granted${g.endReason ? ` (${g.endReason})` : ''}. Do not retry the same request; ask a human if the access is needed.`;
    case 'revoking':
      return `Revoking: ${what} is being taken away.`;
    case 'revoked':
    case 'expired':
      return `${g.state === 'revoked' ? 'Revoked' : 'Expired'}: ${what} has ended${g.endedAt ? ` at ${g.endedAt}` : ''}; the access is gone.`;
    default:
      return `${g.state}: ${what}${g.lastError ? ` (last error: ${JSON.stringify(g.lastError)})` : ''}.`;
  }
}
