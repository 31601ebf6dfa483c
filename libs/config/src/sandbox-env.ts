import { z } from 'zod';
import { documented } from './env-docs';
import { optionalVar } from './provider-env';

/** The variables only `npm run sandbox` reads (besides the broker's own). */
export const SANDBOX_ENV_SCHEMA = z.object({
  // Empty means unset, as for every other variable (optionalVar).
  JIT_SANDBOX_CLOUDS: documented(
    z.preprocess(
      (v) => (v === '' ? undefined : v),
      z.enum(['simulators', 'local'], { error: 'JIT_SANDBOX_CLOUDS must be simulators or local' }).default('simulators'),
    ),
    {
      group: 'sandbox',
      description: '`local` swaps the simulators for in-memory clouds (no wire protocol; one process only)',
      default: '`simulators`',
    },
  ),
  JIT_SANDBOX_SIMULATORS_FILE: documented(optionalVar, {
    group: 'sandbox',
    description:
      'attach to the simulators another sandbox started, described in its `<JIT_DATA_DIR>/sandbox-simulators.json` (replicas on one `DATABASE_URL`)',
    default: '(none: start the simulators)',
  }),
});

export type SandboxEnv = z.output<typeof SANDBOX_ENV_SCHEMA>;
