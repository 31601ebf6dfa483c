import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient, keepPreviousData } from '@tanstack/react-query';
import { Link, useLocation, useNavigate } from 'react-router';
import type { Grant } from '@jit/client';
import type { GrantRequest } from '@jit/client';
import { api } from '../api';
import { useApiSchema, type TargetField, type TargetKindForm } from '../schema';
import { DecisionSummary } from '../components/GrantBits';
import { ErrorState, fieldError, Loading } from '../components/states';
import { humanDuration, humanSeconds, isoSeconds, usePageTitle } from '../format';

const DURATIONS = ['PT15M', 'PT30M', 'PT1H', 'PT2H', 'PT4H', 'PT8H'];

interface FormState {
  cloud: string;
  kind: string;
  target: Record<string, string>;
  principalType: string;
  principalId: string;
  duration: string;
  customDuration: string;
  justification: string;
  ticket: string;
}

function initialTarget(kind: TargetKindForm | undefined): Record<string, string> {
  return Object.fromEntries((kind?.fields ?? []).map((f) => [f.name, f.defaultValue ?? '']));
}

/** The POST /v1/grants body of the form as it stands, or null while a required field is empty. */
function toBody(form: FormState, kind: TargetKindForm | undefined): GrantRequest | null {
  if (!kind || !form.principalId.trim()) return null;
  const target: Record<string, unknown> = { kind: kind.kind };
  for (const f of kind.fields) {
    const raw = (form.target[f.name] ?? '').trim();
    if (!raw) {
      if (f.required) return null;
      continue;
    }
    target[f.name] = f.input === 'list' ? raw.split(/[\n,]+/).map((s) => s.trim()).filter(Boolean) : raw;
  }
  const duration = form.duration === 'custom' ? form.customDuration.trim().toUpperCase() : form.duration;
  if (!duration) return null;
  return {
    cloud: form.cloud,
    principal: { type: form.principalType, id: form.principalId.trim() },
    target,
    duration,
    ...(form.justification.trim() && { justification: form.justification.trim() }),
    ...(form.ticket.trim() && { ticket: form.ticket.trim() }),
  } as GrantRequest;
}

/** The body, settled: changes only once the user stops typing for a moment (the dry run follows it). */
function useSettled<T>(value: T, ms = 500): T {
  const [settled, setSettled] = useState(value);
  const key = JSON.stringify(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [key, ms]); // keyed on the value's JSON, not its identity
  return settled;
}

export function RequestPage() {
  usePageTitle('Request access');
  const schema = useApiSchema();
  if (schema.isPending) return <Loading what="the request form" />;
  if (schema.isError) return <ErrorState error={schema.error} title="Could not read the broker's API description" />;
  return <RequestForm kinds={schema.data.kinds} clouds={schema.data.clouds} principalTypes={schema.data.principalTypes} />;
}

function RequestForm({ kinds, clouds, principalTypes }: { kinds: TargetKindForm[]; clouds: string[]; principalTypes: string[] }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const available = clouds.filter((c) => kinds.some((k) => k.cloud === c));
  const location = useLocation();
  // "Request again" on a grant's page hands the grant over: the form starts as its request was.
  const template = (location.state as { template?: Grant } | null)?.template;
  const [form, setForm] = useState<FormState>(() => {
    const fromTemplate = template && kinds.find((k) => k.kind === template.target.kind);
    if (template && fromTemplate) {
      const target = template.target as Record<string, unknown>;
      // The grant's duration is in seconds (PT3600S): one of the presets when it equals one.
      const preset = DURATIONS.find((d) => isoSeconds(d) === isoSeconds(template.duration));
      return {
        cloud: template.cloud,
        kind: fromTemplate.kind,
        target: Object.fromEntries(fromTemplate.fields.map((f) => [f.name, Array.isArray(target[f.name]) ? (target[f.name] as string[]).join('\n') : target[f.name] == null ? '' : String(target[f.name] as string)])),
        principalType: template.principal.type,
        principalId: template.principal.id,
        duration: preset ?? 'custom',
        customDuration: preset ? '' : template.duration,
        justification: template.justification ?? '',
        ticket: template.ticket ?? '',
      };
    }
    const cloud = available[0] ?? '';
    const kind = kinds.find((k) => k.cloud === cloud);
    return {
      cloud,
      kind: kind?.kind ?? '',
      target: initialTarget(kind),
      principalType: principalTypes[0] ?? 'user',
      principalId: '',
      duration: 'PT1H',
      customDuration: '',
      justification: '',
      ticket: '',
    };
  });
  const kind = kinds.find((k) => k.kind === form.kind);
  const body = useMemo(() => toBody(form, kind), [form, kind]);
  const settledBody = useSettled(body);

  const dryRun = useQuery({
    queryKey: ['evaluate', settledBody],
    queryFn: () => api.evaluateGrantRequest(settledBody!),
    enabled: settledBody !== null,
    placeholderData: keepPreviousData,
    retry: false,
    staleTime: 10_000,
  });

  const submit = useMutation({
    mutationFn: (request: GrantRequest) => api.requestGrant(request, { idempotencyKey: crypto.randomUUID() }),
    onSuccess: ({ grant }) => {
      void queryClient.invalidateQueries({ queryKey: ['grants'] });
      void navigate(`/grants/${grant.id}`, { state: { justRequested: true } });
    },
  });

  const set = (patch: Partial<FormState>) => setForm((f) => ({ ...f, ...patch }));
  const setCloud = (cloud: string) => {
    const first = kinds.find((k) => k.cloud === cloud);
    set({ cloud, kind: first?.kind ?? '', target: initialTarget(first) });
  };
  const setKind = (name: string) => set({ kind: name, target: initialTarget(kinds.find((k) => k.kind === name)) });

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (body) submit.mutate(body);
  };

  // A field's error: from the submit's problem, else from the dry run's validation problem.
  const problem = submit.error ?? dryRun.error;
  const err = (field: string) => fieldError(problem, field);
  const durationSeconds = form.duration === 'custom' ? isoSeconds(form.customDuration) : isoSeconds(form.duration);
  // The bounds stay from the last dry run that answered, so they do not flicker while the next one runs.
  const limits = dryRun.data;
  const stale = dryRun.isPlaceholderData || JSON.stringify(body) !== JSON.stringify(settledBody);

  return (
    <section>
      <div className="page-header">
        <h1>Request access</h1>
        <Link to="/grants">My grants →</Link>
      </div>
      <div className="grid-2">
        <form className="card stack" onSubmit={onSubmit} aria-describedby="request-help" noValidate>
          <p id="request-help" className="muted">
            Fields marked * are required. The panel beside the form shows, before you send, which rule would decide and what it needs.
          </p>
          <div className="row">
            <div className="field">
              <label htmlFor="cloud">Cloud *</label>
              <select id="cloud" value={form.cloud} onChange={(e) => setCloud(e.target.value)} aria-invalid={!!err('cloud')}>
                {available.map((c) => (
                  <option key={c} value={c}>
                    {c.toUpperCase()}
                  </option>
                ))}
              </select>
            </div>
            <div className="field">
              <label htmlFor="kind">Access kind *</label>
              <select id="kind" value={form.kind} onChange={(e) => setKind(e.target.value)} aria-invalid={!!err('target.kind')}>
                {kinds
                  .filter((k) => k.cloud === form.cloud)
                  .map((k) => (
                    <option key={k.kind} value={k.kind}>
                      {k.kind}
                    </option>
                  ))}
              </select>
              <FieldError id="kind-error" message={err('target.kind')} />
            </div>
          </div>

          <fieldset>
            <legend>Target</legend>
            <div className="stack">
              {kind?.fields.map((f) => (
                <TargetInput key={`${kind.kind}.${f.name}`} field={f} value={form.target[f.name] ?? ''} error={err(`target.${f.name}`)} onChange={(v) => set({ target: { ...form.target, [f.name]: v } })} />
              ))}
            </div>
          </fieldset>

          <fieldset>
            <legend>Who receives the access</legend>
            <div className="row">
              <div className="field" style={{ flex: '0 1 9rem' }}>
                <label htmlFor="principal-type">Type *</label>
                <select id="principal-type" value={form.principalType} onChange={(e) => set({ principalType: e.target.value })} aria-invalid={!!err('principal.type')}>
                  {principalTypes.map((t) => (
                    <option key={t} value={t}>
                      {t}
                    </option>
                  ))}
                </select>
              </div>
              <div className="field">
                <label htmlFor="principal-id">Principal ID *</label>
                <input
                  id="principal-id"
                  value={form.principalId}
                  onChange={(e) => set({ principalId: e.target.value })}
                  placeholder={principalPlaceholder(form.cloud)}
                  aria-invalid={!!err('principal.id')}
                  aria-describedby={err('principal.id') ? 'principal-id-error' : undefined}
                  required
                  autoComplete="off"
                />
                <FieldError id="principal-id-error" message={err('principal.id') ?? err('principal.type')} />
              </div>
            </div>
          </fieldset>

          <div className="row">
            <div className="field">
              <label htmlFor="duration">Duration *</label>
              <select id="duration" value={form.duration} onChange={(e) => set({ duration: e.target.value })} aria-invalid={!!err('duration')} aria-describedby="duration-help">
                {DURATIONS.map((d) => (
                  <option key={d} value={d}>
                    {humanSeconds(isoSeconds(d)!)}
                  </option>
                ))}
                <option value="custom">Other…</option>
              </select>
            </div>
            {form.duration === 'custom' && (
              <div className="field">
                <label htmlFor="custom-duration">ISO-8601 duration *</label>
                <input id="custom-duration" value={form.customDuration} onChange={(e) => set({ customDuration: e.target.value })} placeholder="PT45M" aria-invalid={!!err('duration')} />
              </div>
            )}
          </div>
          <p id="duration-help" className="help">
            {durationSeconds !== undefined ? `${humanSeconds(durationSeconds)}, counted from when the grant becomes active. ` : 'Such as PT45M or PT1H30M. '}
            {limits
              ? `Allowed here: ${humanDuration(limits.durationBounds.min)} to ${humanDuration(limits.maxDuration)}` +
                (isoSeconds(limits.maxDuration) !== isoSeconds(limits.durationBounds.max)
                  ? ` (the rule's maximum; the broker's is ${humanDuration(limits.durationBounds.max)}).`
                  : '.')
              : "The broker's bounds and the rule's maximum show here once the dry run has run."}
          </p>
          <FieldError id="duration-error" message={err('duration')} />

          <div className="field">
            <label htmlFor="justification">Justification</label>
            <textarea id="justification" rows={3} value={form.justification} onChange={(e) => set({ justification: e.target.value })} maxLength={1024} aria-invalid={!!err('justification')} />
            <FieldError id="justification-error" message={err('justification')} />
          </div>
          <div className="field">
            <label htmlFor="ticket">Ticket</label>
            <input id="ticket" value={form.ticket} onChange={(e) => set({ ticket: e.target.value })} maxLength={128} placeholder="INC-1234" aria-invalid={!!err('ticket')} />
            <FieldError id="ticket-error" message={err('ticket')} />
          </div>

          <ErrorState error={submit.error} title="The request was not accepted" />
          <div className="actions">
            <button type="submit" className="btn btn-primary" disabled={!body || submit.isPending || dryRun.data?.effect === 'deny'}>
              {submit.isPending ? 'Sending…' : 'Send request'}
            </button>
          </div>
        </form>

        <aside className="card" aria-labelledby="dry-run-title" aria-live="polite" aria-busy={dryRun.isFetching}>
          <h2 id="dry-run-title" style={{ marginTop: 0 }}>
            Decision preview
          </h2>
          {!body && <p className="muted">Fill in the target, the principal and the duration to see which rule would decide.</p>}
          {body && dryRun.isPending && <Loading what="the decision" />}
          {body && dryRun.isError && <ErrorState error={dryRun.error} title="The request is not valid yet" />}
          {body && dryRun.data && (
            <div style={{ opacity: stale ? 0.6 : 1 }}>
              <DecisionSummary evaluation={dryRun.data} />
            </div>
          )}
          <p className="help">Nothing is stored or granted by the preview (POST /v1/policy/evaluate).</p>
        </aside>
      </div>
    </section>
  );
}

function principalPlaceholder(cloud: string): string {
  if (cloud === 'aws') return 'arn:aws:iam::123456789012:role/name';
  if (cloud === 'gcp') return 'user:alice@example.com';
  if (cloud === 'azure') return 'object ID (GUID)';
  return '';
}

function FieldError({ id, message }: { id: string; message: string | undefined }) {
  return message ? (
    <p id={id} className="error">
      {message}
    </p>
  ) : null;
}

function TargetInput({ field, value, error, onChange }: { field: TargetField; value: string; error: string | undefined; onChange: (value: string) => void }) {
  const id = `target-${field.name}`;
  // The schema's pattern is for the browser to check (the title says what the broker answers), not to show.
  const help = [field.description, field.input === 'list' ? 'One a line.' : undefined].filter(Boolean).join(' ');
  const describedBy = [help && `${id}-help`, error && `${id}-error`].filter(Boolean).join(' ') || undefined;
  const label = `${field.name}${field.required ? ' *' : ''}`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {field.input === 'choice' ? (
        <select id={id} value={value} onChange={(e) => onChange(e.target.value)} aria-invalid={!!error} aria-describedby={describedBy}>
          {!field.required && <option value="">—</option>}
          {field.options!.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      ) : field.input === 'list' ? (
        <textarea id={id} rows={2} value={value} onChange={(e) => onChange(e.target.value)} aria-invalid={!!error} aria-describedby={describedBy} required={field.required} />
      ) : (
        <input id={id} value={value} onChange={(e) => onChange(e.target.value)} aria-invalid={!!error} aria-describedby={describedBy} required={field.required} maxLength={field.maxLength} autoComplete="off" />
      )}
      {help && (
        <p id={`${id}-help`} className="help">
          {help}
        </p>
      )}
      <FieldError id={`${id}-error`} message={error} />
    </div>
  );
}
