import type { Grant, PolicyEvaluation } from '@jit/client';
import { humanDuration, stateClass, stateLabel, targetFields } from '../format';

export function StateBadge({ state }: { state: Grant['state'] }) {
  return <span className={stateClass(state)}>{stateLabel(state)}</span>;
}

export function CloudBadge({ cloud }: { cloud: string | null | undefined }) {
  return cloud ? <span className="badge">{cloud.toUpperCase()}</span> : <span className="muted">—</span>;
}

/** A target's kind and fields as a compact definition list. */
export function TargetFacts({ target }: { target: Grant['target'] }) {
  return (
    <dl className="facts">
      <dt>Kind</dt>
      <dd>
        <code>{target.kind}</code>
      </dd>
      {targetFields(target).map(([name, value]) => (
        <FactRow key={name} name={name} value={value} />
      ))}
    </dl>
  );
}

function FactRow({ name, value }: { name: string; value: string }) {
  return (
    <>
      <dt>{name}</dt>
      <dd className="mono">{value}</dd>
    </>
  );
}

type Steps = { approvalsRequired: number; approverGroups: string[] }[];

/** "2 approvals from sre" or each step of a multi-step rule. */
export function approvalNeeds(decision: { approvalsRequired?: number; approverGroups?: string[]; approvalSteps?: Steps }): string {
  const steps: Steps = decision.approvalSteps?.length
    ? decision.approvalSteps
    : [{ approvalsRequired: decision.approvalsRequired ?? 0, approverGroups: decision.approverGroups ?? [] }];
  return steps
    .map((s) => `${s.approvalsRequired} approval${s.approvalsRequired === 1 ? '' : 's'}${s.approverGroups.length ? ` from ${s.approverGroups.join(' or ')}` : ''}`)
    .join(', then ');
}

/** The dry run's answer, said plainly: who decides and what it needs. */
export function DecisionSummary({ evaluation }: { evaluation: PolicyEvaluation }) {
  if (evaluation.effect === 'deny') {
    return (
      <div className="notice notice-danger" data-testid="decision">
        <p>
          <strong>Would be denied</strong>
          {evaluation.rule ? (
            <>
              {' '}
              by rule <code>{evaluation.rule}</code>
            </>
          ) : null}{' '}
          <span className="muted">({evaluation.code})</span>
        </p>
        <p>{evaluation.reason}</p>
        {evaluation.errors.length > 0 && (
          <ul className="field-errors">
            {evaluation.errors.map((e) => (
              <li key={`${e.field}:${e.message}`}>
                <code>{e.field}</code>: {e.message}
              </li>
            ))}
          </ul>
        )}
      </div>
    );
  }
  const tone = evaluation.mode === 'auto' ? 'notice-ok' : 'notice-warn';
  return (
    <div className={`notice ${tone}`} data-testid="decision">
      <p>
        <strong>
          {evaluation.mode === 'auto' && 'Granted at once'}
          {evaluation.mode === 'approvals' && 'Needs approval'}
          {evaluation.mode === 'break_glass' && 'Break-glass: granted at once and reported'}
        </strong>{' '}
        by rule <code>{evaluation.rule}</code>
      </p>
      {evaluation.mode === 'approvals' && (
        <p>
          Needs {approvalNeeds(evaluation)}
          {evaluation.approvalTimeout ? `, within ${humanDuration(evaluation.approvalTimeout)}` : ''}. The clock starts at the last approval.
        </p>
      )}
      {evaluation.mode === 'break_glass' && <p>Security is notified of every break-glass use.</p>}
      <p className="muted">
        Judged as {evaluation.request.cloud} · <code>{evaluation.request.target.kind}</code> for {evaluation.request.duration}.
      </p>
    </div>
  );
}
