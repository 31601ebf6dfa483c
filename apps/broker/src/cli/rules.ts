import { readFileSync } from 'node:fs';
import { ConfigError, YamlFileError, loadBrokerConfig } from '@jit/config';
import { parseAccessPolicy, runPolicyCases } from '@jit/policy';
import { targetKinds } from '../target-kinds';

const USAGE = `usage:
  npm run rules -- check <rules.yaml>              validate a rules file as the broker would load it
  npm run rules -- test <rules.yaml> <cases.yaml>  validate it, then check each example request's decision`;

/** Exit codes: 0 all good, 1 a file is invalid or a case failed, 2 the command or its environment is wrong. */
function main(argv: string[]): number {
  const [command, rulesPath, casesPath] = argv;
  if (!((command === 'check' && rulesPath && !casesPath) || (command === 'test' && rulesPath && casesPath))) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const policy = load(rulesPath, () => parseAccessPolicy(readText(rulesPath), rulesPath, new Date(), targetKinds));
  if (!policy) return 1;
  const f = policy.file;
  process.stdout.write(
    `${rulesPath}: valid, ${f.rules.length} rules, ${f.denyList.length} deny-list entries, ${f.issuers.length} OIDC issuers, ` +
      `version ${policy.version.slice(0, 12)}\n`,
  );
  if (command === 'check') return 0;

  // The same duration bounds the broker takes from its environment (JIT_MIN_DURATION, JIT_MAX_DURATION).
  let config: ReturnType<typeof loadBrokerConfig>;
  try {
    config = loadBrokerConfig(process.env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`the environment is not a valid broker configuration: ${e.message}\n`);
    return 2;
  }
  const results = load(casesPath, () =>
    runPolicyCases(policy, readText(casesPath), casesPath, { minSeconds: config.minDurationSeconds, maxSeconds: config.maxDurationSeconds }),
  );
  if (!results) return 1;
  for (const r of results) {
    const got = r.decision.effect === 'allow' ? `allow by ${r.decision.rule} (${r.decision.approval.mode})` : `${r.decision.effect}: ${r.decision.reason}`;
    process.stdout.write(r.passed ? `  ok    ${r.name}\n` : `  FAIL  ${r.name}\n        ${r.mismatches.join('\n        ')}\n        decision: ${got}\n`);
  }
  const failed = results.filter((r) => !r.passed).length;
  process.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}

function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

/** Runs `parse`, printing a YAML file's errors as `file:line field: message` (or a read error) instead of throwing. */
function load<T>(path: string, parse: () => T): T | null {
  try {
    return parse();
  } catch (e) {
    if (e instanceof YamlFileError) {
      for (const i of e.issues) process.stderr.write(`${path}:${i.line}:${i.column} ${i.field || '(document)'}: ${i.message}\n`);
      return null;
    }
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EISDIR') {
      process.stderr.write(`${path}: ${(e as Error).message}\n`);
      return null;
    }
    throw e;
  }
}

process.exitCode = main(process.argv.slice(2));
