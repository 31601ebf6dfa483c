import { setTimeout as sleep } from 'node:timers/promises';
import { ProviderError } from '@jit/domain';
import { BackoffOptions, backoffMs } from '@jit/resilience';
import { BROKER_POLICY_NAME } from './aws-artifact.naming';
import {
  INLINE_BUDGET, POLICY_VERSION, PolicyDocument, Statement, foreignStatements, parseBrokerPolicy, policySize, serialize, withStatement, withoutStatement,
} from './broker-policy.document';
import { IamEntity } from './iam-entity';
import { InlinePolicyClient } from './inline-policy.client';
import { KeyedMutex } from './keyed.mutex';

/**
 * IAM has no conditional writes: another broker replica may overwrite the policy between our
 * read and write. Each write is read back and redone if it was lost, this many times at most.
 */
const WRITE_ROUNDS = 6;
/**
 * Before redoing lost write number `round`, wait random(0, 25 ms * 2^round) (full jitter): two
 * replicas that collided once would otherwise collide again in lockstep.
 */
const CONTENTION_BACKOFF: BackoffOptions = { baseMs: 50, capMs: 50 * 2 ** (WRITE_ROUNDS - 1), jitter: 'full' };

/**
 * The one broker-managed inline policy per role or user, holding one statement per grant (Sid
 * from the grant id). Merging keeps the per-policy overhead out of the size budget; every change
 * is a read-modify-write, serialized per entity in this process and verified by reading back.
 */
export class BrokerPolicyStore {
  private readonly mutex = new KeyedMutex();

  constructor(
    private readonly policies: InlinePolicyClient,
    private readonly now: () => Date,
    /** The caller's signal, if the adapter's call carries one: it cuts a contention pause short. */
    private readonly signal: () => AbortSignal | undefined = () => undefined,
    /** Told (Sids and the entity only, never statement bodies) when a write drops statements the broker did not write. */
    private readonly warn: (message: string) => void = warnForeign,
  ) {}

  async read(entity: IamEntity): Promise<PolicyDocument | undefined> {
    const text = await this.policies.get(entity, BROKER_POLICY_NAME);
    return text === undefined ? undefined : this.parse(entity, text);
  }

  /** Adds or replaces `statement`, first checking the entity's aggregate inline size budget. */
  add(entity: IamEntity, statement: Statement, limitField: string): Promise<void> {
    return this.mutex.run(entity.arn, async () => {
      for (let round = 1; round <= WRITE_ROUNDS; round++) {
        const names = await this.policies.listNames(entity);
        let others = 0;
        let current: PolicyDocument = { Version: POLICY_VERSION, Statement: [] };
        for (const name of names) {
          const text = await this.policies.get(entity, name);
          if (text === undefined) continue;
          if (name === BROKER_POLICY_NAME) current = this.parse(entity, text);
          else others += policySize(decodeURIComponentSafe(text));
        }
        this.reportForeign(entity, current);
        const next = serialize(withStatement(current, statement, this.now()));
        const budget = INLINE_BUDGET[entity.kind];
        if (others + policySize(next) > budget) {
          throw new ProviderError(
            'limit',
            `aggregate inline policy size per IAM ${entity.kind} is ${budget} characters (whitespace not counted): ` +
              `${entity.arn} has ${others} in other inline policies and the broker policy would need ${policySize(next)}; ` +
              'wait for other grants on this principal to end or revoke them',
            { field: limitField, code: 'LimitExceeded' },
          );
        }
        await this.policies.put(entity, BROKER_POLICY_NAME, next);
        if ((await this.read(entity))?.Statement.some((s) => s.Sid === statement.Sid)) return;
        await this.contentionPause(round);
      }
      throw new ProviderError('transient', `the broker policy on ${entity.arn} kept being overwritten by another writer`, { code: 'ConcurrentModification' });
    });
  }

  /** Removes the statement `sid` if `guard` allows it; an absent statement or policy is success. */
  remove(entity: IamEntity, sid: string, guard: (s: Statement) => boolean = () => true): Promise<void> {
    return this.mutex.run(entity.arn, async () => {
      for (let round = 0; round <= WRITE_ROUNDS; round++) {
        const current = await this.read(entity);
        const statement = current?.Statement.find((s) => s.Sid === sid);
        if (!current || !statement || !guard(statement)) return;
        if (round === WRITE_ROUNDS) break;
        if (round > 0) await this.contentionPause(round);
        this.reportForeign(entity, current);
        const next = withoutStatement(current, sid, this.now());
        if (next.Statement.length === 0) await this.policies.delete(entity, BROKER_POLICY_NAME);
        else await this.policies.put(entity, BROKER_POLICY_NAME, serialize(next));
      }
      throw new ProviderError('transient', `the broker policy on ${entity.arn} kept being restored by another writer`, { code: 'ConcurrentModification' });
    });
  }

  private reportForeign(entity: IamEntity, doc: PolicyDocument): void {
    const foreign = foreignStatements(doc);
    if (!foreign.length) return;
    const sids = foreign.map((s) => (typeof s.Sid === 'string' ? JSON.stringify(s.Sid.slice(0, 64)) : '(no Sid)')).join(', ');
    this.warn(`dropping ${foreign.length} statement(s) the broker did not write from ${BROKER_POLICY_NAME} on ${entity.arn}: ${sids}`);
  }

  /** An abort ends the pause with the caller's AbortError, as it ends the adapter's SDK calls. */
  private contentionPause(round: number): Promise<void> {
    return sleep(backoffMs(round, CONTENTION_BACKOFF), undefined, { signal: this.signal() });
  }

  private parse(entity: IamEntity, text: string): PolicyDocument {
    try {
      return parseBrokerPolicy(text);
    } catch (e) {
      throw new ProviderError('terminal', `the inline policy ${BROKER_POLICY_NAME} on ${entity.arn} is not valid JSON; fix or delete it`, { cause: e });
    }
  }
}

function warnForeign(message: string): void {
  process.emitWarning(message, { code: 'JIT_AWS_FOREIGN_STATEMENT' });
}

function decodeURIComponentSafe(text: string): string {
  try {
    return text.trimStart().startsWith('{') ? text : decodeURIComponent(text);
  } catch {
    return text;
  }
}
