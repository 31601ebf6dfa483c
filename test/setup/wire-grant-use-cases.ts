import { Clock, GrantStore } from '@jit/domain';
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

/** The lifecycle and the sweeper's and revoker's use cases over one store, wired as start-broker wires them (no hooks, empty rules). */
export function wireGrantUseCases(store: GrantStore, registry: CloudProviderRegistry, clock: Clock, settings: LifecycleSettings) {
  const hooks = new NoopLifecycleHooks();
  const transitions = new GrantTransitions(store, hooks);
  const lifecycle = new GrantLifecycle(transitions, store, registry, clock, settings, hooks);
  const reader = new GetGrantUseCase(store, { current: emptyAccessPolicy(clock.now()) });
  return {
    transitions,
    lifecycle,
    processDue: new ProcessDueGrantUseCase({ transitions, lifecycle, registry, clock }),
    revoke: new RevokeGrantUseCase({ reader, transitions, lifecycle, clock, leaseMs: settings.leaseMs }),
  };
}
