import { z } from 'zod';
import { documented } from './env-docs';
import { intVar, optionalVar } from './provider-env';

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
  JIT_SANDBOX_IDP_PORT: documented(intVar('JIT_SANDBOX_IDP_PORT', 0, 65535), {
    group: 'sandbox',
    description:
      "port on 127.0.0.1 of the simulated company IdP where people sign in to the console (alice, bob, carol); the rules file's `corp` issuer names it, so change both (`0`: any free port, for a rules file written to match)",
    default: '`8099`',
  }),
});

export type SandboxEnv = z.output<typeof SANDBOX_ENV_SCHEMA>;
