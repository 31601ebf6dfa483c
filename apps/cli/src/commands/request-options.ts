import { Command, Option } from 'commander';
import { parseIsoDurationSeconds } from '@jit/domain';
import { CliError, EXIT } from '../exit-codes';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The request flags of `jit request`, `jit exec` and `jit credential-process`. */
export function addRequestOptions(cmd: Command): Command {
  return cmd
    .option('-f, --file <request.yaml>', 'the request body (YAML or JSON, as POST /v1/grants takes it; - for stdin); flags override its fields')
    .option('--kind <kind>', 'target kind, e.g. aws.iam-policy, gcp.iam-binding, azure.resource-role')
    .option('--cloud <cloud>', 'aws, azure or gcp (default: the kind\'s prefix)')
    .option('--principal <[type:]id>', 'who gets the access: user:, group: or workload: and the cloud\'s id (type defaults to workload)')
    .option('--principal-type <type>', 'user, group or workload, when --principal has no type prefix')
    .option('-t, --target <key=value>', 'a target field; repeat for more; a key twice makes an array; [..] or {..} values are JSON', collect)
    .option('-d, --duration <duration>', 'ISO 8601 (PT30M) or 30m, 1h, 1h30m')
    .option('-j, --justification <text>', 'why; rules may require it')
    .option('--ticket <id>', 'a change ticket; rules may require it')
    .option('--idempotency-key <key>', 'retries with the same key and body get the same grant');
}

/** The wait flags of `jit request --wait` and `jit exec`. */
export function addWaitOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--timeout <duration>', 'give up waiting after this long (ISO 8601 or 10m); default: as long as the approval deadline').argParser(durationMs))
    .addOption(new Option('--poll-interval <duration>', 'how often the grant is read while waiting').default(1000, '1s').argParser(durationMs));
}

export function durationMs(value: string): number {
  const short = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value.trim());
  if (short) return Number(short[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[short[2] as 'ms' | 's' | 'm' | 'h'];
  const seconds = parseIsoDurationSeconds(value);
  if (seconds === undefined) throw new CliError(`${JSON.stringify(value)} is not a duration (ISO 8601 like PT10M, or 90s, 10m, 1h)`, EXIT.usage);
  return seconds * 1000;
}
