import { Clock } from '@jit/domain';
import {
  CloudProviderRegistry,
  GetGrantUseCase,
  GrantLifecycle,
  GrantTransitions,
  LifecycleSettings,
  NoopLifecycleHooks,
  ProcessDueGrantUseCase,
  RevokeGrantUseCase,
} from '@jit/grants';
import { emptyAccessPolicy } from '@jit/policy';
import { PostgresStores } from './postgres-stores';

/** The lifecycle and the sweeper's and revoker's use cases over one replica's stores, wired as start-broker wires them (no hooks, empty rules). */
export function wireGrantUseCases(stores: PostgresStores, registry: CloudProviderRegistry, clock: Clock, settings: LifecycleSettings) {
  const hooks = new NoopLifecycleHooks();
  const transitions = new GrantTransitions(stores.unitOfWork, stores.grants, stores.audit, hooks);
  const lifecycle = new GrantLifecycle(transitions, stores.grants, registry, clock, settings, hooks);
  const reader = new GetGrantUseCase(stores.grants, { current: emptyAccessPolicy(clock.now()) });
  return {
    transitions,
    lifecycle,
    processDue: new ProcessDueGrantUseCase({ transitions, lifecycle, registry, clock }),
    revoke: new RevokeGrantUseCase({ reader, transitions, lifecycle, clock, leaseMs: settings.leaseMs }),
  };
}
