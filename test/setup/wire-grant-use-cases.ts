import { Clock } from '@jit/domain';
import {
  ApproveGrantUseCase,
  CloudProviderRegistry,
  DenyGrantUseCase,
  GetGrantUseCase,
  GrantLifecycle,
  GrantTransitions,
  LifecycleSettings,
  NoopLifecycleHooks,
  ProcessDueGrantUseCase,
  RequestGrantUseCase,
  RevokeGrantUseCase,
} from '@jit/grants';
import { PolicySource, emptyAccessPolicy } from '@jit/policy';
import { targetKinds } from '@jit/testing';
import { PostgresStores } from './postgres-stores';

/**
 * The lifecycle and the use cases over one replica's stores, wired as start-broker wires them
 * (no hooks; the rules `policies` holds, none by default, so every request is denied). Requests
 * are parsed against the kinds those rules were checked against (`targetKinds` by default).
 */
export function wireGrantUseCases(
  stores: PostgresStores,
  registry: CloudProviderRegistry,
  clock: Clock,
  settings: LifecycleSettings,
  policies: PolicySource = { current: emptyAccessPolicy(clock.now(), targetKinds) },
) {
  const hooks = new NoopLifecycleHooks();
  const transitions = new GrantTransitions(stores.unitOfWork, stores.grants, stores.audit, hooks);
  const lifecycle = new GrantLifecycle(transitions, stores.grants, registry, clock, settings, hooks);
  const reader = new GetGrantUseCase(stores.grants, policies);
  const decisions = { store: stores.grants, transitions, clock, policies };
  return {
    transitions,
    lifecycle,
    processDue: new ProcessDueGrantUseCase({ transitions, lifecycle, registry, clock }),
    revoke: new RevokeGrantUseCase({ reader, transitions, lifecycle, clock, leaseMs: settings.leaseMs }),
    request: new RequestGrantUseCase({
      ...decisions, audit: stores.audit, lifecycle, registry, hooks, leaseMs: settings.leaseMs, bounds: { minSeconds: 60, maxSeconds: 86_400 }, kinds: policies.current.kinds,
    }),
    approve: new ApproveGrantUseCase({ ...decisions, lifecycle, leaseMs: settings.leaseMs }),
    deny: new DenyGrantUseCase(decisions),
  };
}
