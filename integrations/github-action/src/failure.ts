import { BrokerError } from '../../../apps/cli/src/core/broker-api';
import { CliError } from '../../../apps/cli/src/exit-codes';

/** One line for the step's log: the broker's problem with each field it named, or the CLI core's error with its hints; never a stack trace. */
export function describeFailure(e: unknown): string {
  if (e instanceof BrokerError) {
    const fields = e.errors.map((i) => `${i.field}: ${i.message}`);
    const decision = e.problem.decision ? ` decision: ${JSON.stringify(e.problem.decision)}` : '';
    return `the broker answered ${e.status} ${e.code}: ${e.detail}${fields.length ? ` (${fields.join('; ')})` : ''}${decision}`;
  }
  if (e instanceof CliError && e.details.length > 0) return `${e.message} (${e.details.join('; ')})`;
  return e instanceof Error ? e.message : String(e);
}
