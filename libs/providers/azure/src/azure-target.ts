import { Target } from '@jit/domain';
import { roleGuid } from './azure-ids';
import { azureTarget } from './azure-kinds';

/** A canonical, case-insensitive key for an Azure target (Entra and ARM ids are case-insensitive). */
export function targetKey(target: Target): string {
  const t = azureTarget(target);
  switch (t.kind) {
    case 'azure.directory-role':
      return `${t.kind}|${t.roleDefinitionId}|${t.directoryScopeId ?? '/'}`.toLowerCase();
    case 'azure.resource-role':
      return `${t.kind}|${t.scope.replace(/\/$/, '')}|${roleGuid(t.roleDefinitionId)}`.toLowerCase();
    case 'azure.group-membership':
      return `${t.kind}|${t.groupId}|${t.access}`.toLowerCase();
    case 'azure.app-role':
      return `${t.kind}|${t.resourceServicePrincipalId}|${t.appRoleId}`.toLowerCase();
    default:
      return JSON.stringify(t);
  }
}

export function sameTarget(a: Target, b: Target): boolean {
  return targetKey(a) === targetKey(b);
}
