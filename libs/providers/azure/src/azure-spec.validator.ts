import { GrantSpec, ProviderError } from '@jit/domain';
import { azureKinds, azureTarget } from './azure-kinds';

/**
 * Checks everything that needs no cloud call, before any call: the target against its schema
 * (GUIDs, ARM scope and role definition shapes), the principal type and id per kind, the
 * artifact name, the window, and that a subscription-level role definition belongs to the
 * scope's subscription.
 */
export function validateAzureSpec(spec: GrantSpec, expectedArtifactName: string): void {
  const kind = spec.target.kind;
  const descriptor = azureKinds.find((k) => k.kind === kind);
  if (!descriptor) {
    throw new ProviderError('invalid', `the Azure provider does not serve ${kind}`, { field: 'target.kind' });
  }
  const parsed = descriptor.target.safeParse(spec.target);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = `target.${issue.path.join('.')}`;
    throw new ProviderError('invalid', `${field} ${issue.message}`, { field });
  }
  const rule = descriptor.principals;
  if (!rule.types.includes(spec.principal.type)) {
    throw new ProviderError('invalid', `${kind} accepts principals of type ${rule.types.join(', ')}, not ${spec.principal.type}`, { field: 'principal.type' });
  }
  if (!rule.id.test(spec.principal.id)) throw new ProviderError('invalid', `principal.id ${rule.idMessage}`, { field: 'principal.id' });
  if (!(spec.expiresAt.getTime() > spec.startsAt.getTime())) {
    throw new ProviderError('invalid', 'expiresAt must be after startsAt', { field: 'duration' });
  }
  if (spec.artifactName !== expectedArtifactName) {
    throw new ProviderError('invalid', `artifactName ${spec.artifactName} is not the one derived from grant ${spec.grantId}`, { field: 'artifactName' });
  }
  const target = azureTarget(spec.target);
  if (target.kind === 'azure.resource-role') {
    const roleSub = /^\/subscriptions\/([^/]+)\//i.exec(target.roleDefinitionId)?.[1];
    const scopeSub = /^\/subscriptions\/([^/]+)/i.exec(target.scope)?.[1];
    if (roleSub && roleSub.toLowerCase() !== scopeSub?.toLowerCase()) {
      throw new ProviderError('invalid', `target.roleDefinitionId is defined in subscription ${roleSub}, outside the scope ${target.scope}`, {
        field: 'target.roleDefinitionId',
      });
    }
  }
}
