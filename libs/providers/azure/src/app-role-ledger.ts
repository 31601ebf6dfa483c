/**
 * An appRoleAssignment has no free-text field and a server-chosen id, so the broker records
 * its app role grants as tags on the resource service principal (docs/providers/azure.md):
 * `jit-broker` marks the service principal, `jit-broker:{grantId}:{principalId}:{appRoleId}`
 * records one grant, written before the assignment is created (write-ahead), and
 * `jit-broker-standing:{principalId}:{appRoleId}` marks an assignment that existed before the
 * broker's first grant, which the broker must never delete.
 */
export const LEDGER_MARKER = 'jit-broker';

export interface LedgerEntry {
  grantId: string;
  principalId: string;
  appRoleId: string;
}

export function ledgerTag(e: LedgerEntry): string {
  return `${LEDGER_MARKER}:${e.grantId}:${e.principalId}:${e.appRoleId}`.toLowerCase();
}

export function standingTag(principalId: string, appRoleId: string): string {
  return `${LEDGER_MARKER}-standing:${principalId}:${appRoleId}`.toLowerCase();
}

export function parseLedgerTag(tag: string): LedgerEntry | undefined {
  const m = /^jit-broker:([^:]+):([0-9a-f-]{36}):([0-9a-f-]{36})$/i.exec(tag);
  return m ? { grantId: m[1], principalId: m[2].toLowerCase(), appRoleId: m[3].toLowerCase() } : undefined;
}
