import { z } from 'zod';
import { CLOUDS, CloudName, PRINCIPAL_TYPES, Principal, PrincipalType, TargetKind } from './cloud';
import { Target } from './target';
import { MatchRelation } from './target-matching';

/**
 * Target kinds as data: each provider lib describes its own kinds (`awsKinds`, `azureKinds`,
 * `gcpKinds`) and the composition root builds one `TargetKinds` registry from all of them. The
 * request parser, the rules file, the matcher, the metrics and the API document read the
 * registry, so adding a kind touches one provider lib (docs/architecture.md, "Target kinds").
 */

/** Who ends the access at expiry: the cloud itself (a condition, a PIM schedule) or only the broker's sweeper. */
export type Enforcement = 'cloud' | 'sweeper';

/** Which principals a kind accepts, and the shape of their ids (design.md section 4). */
export interface PrincipalRule {
  readonly types: readonly PrincipalType[];
  readonly id: RegExp;
  /** The problem's message for `principal.id` when `id` does not match. */
  readonly idMessage: string;
  /**
   * The type an id denotes by itself (a GCP member prefix, a workforce or workload pool), so rules
   * that restrict `principalTypes` cannot be passed by declaring a domain a single user; with the
   * message for `principal.type` when the request declares another.
   */
  impliedType?(id: string): { type: PrincipalType; mismatch(declared: PrincipalType): string } | undefined;
}

/** A rule's matcher for one kind, as the rules file parsed it: `kind`, who receives the access, the kind's own fields. */
export interface RuleMatcher {
  kind: TargetKind;
  principals?: string[];
  principalTypes?: PrincipalType[];
  [field: string]: unknown;
}

/** Everything the broker core knows about one kind; the provider lib that serves it defines it. */
export interface TargetKindDescriptor {
  /** `<cloud>.<name>`, e.g. `aws.iam-policy`. */
  readonly kind: TargetKind;
  readonly cloud: CloudName;
  /** The target's fields in a request: a strict object whose `kind` is the literal `kind`. */
  readonly target: z.ZodObject;
  readonly principals: PrincipalRule;
  /** The kind's matcher in the rules file (allow rules and the deny-list). */
  readonly rules: {
    /** The zod shape of the matcher's fields besides `kind`, `principals` and `principalTypes` included. */
    readonly fields: z.ZodRawShape;
    /** The principal id as the cloud addresses it (an IAM ARN by name), matched against `principals`. */
    canonicalPrincipal?(id: string): string;
    /** Whether the matcher's target fields cover (or touch) the requested target; principals are matched by the caller. */
    matches(matcher: RuleMatcher, target: Target, relation: MatchRelation): boolean;
  };
  /** Who ends the access at expiry, for this principal (ARM role assignments for workloads have no expiry of their own). */
  enforcement(principal: Principal): Enforcement;
  /** The grant hands credentials to the caller once, in the response that provisions it. */
  readonly vendsCredentials: boolean;
  /** For a credential-vending kind: the kind to request instead when a rule needs approval. */
  readonly approvalAlternative?: TargetKind;
}

/** What a provider lib writes for one kind; `defineTargetKind` checks the types of its matcher against its schemas. */
export interface TargetKindDefinition<S extends z.ZodObject, R extends z.ZodRawShape> {
  kind: TargetKind;
  cloud: CloudName;
  target: S;
  principals: PrincipalRule;
  rules: {
    fields: R;
    canonicalPrincipal?(id: string): string;
    matches(matcher: z.output<z.ZodObject<R>>, target: z.output<S>, relation: MatchRelation): boolean;
  };
  /** Default `cloud`. */
  enforcement?: Enforcement | ((principal: Principal) => Enforcement);
  vendsCredentials?: boolean;
  approvalAlternative?: TargetKind;
}

export function defineTargetKind<S extends z.ZodObject, R extends z.ZodRawShape>(d: TargetKindDefinition<S, R>): TargetKindDescriptor {
  const enforcement = d.enforcement ?? 'cloud';
  return {
    kind: d.kind,
    cloud: d.cloud,
    target: d.target,
    principals: d.principals,
    rules: {
      fields: d.rules.fields,
      canonicalPrincipal: d.rules.canonicalPrincipal,
      // The registry hands a matcher only targets its schema parsed, and matchers its rule fields parsed.
      matches: (m, t, relation) => d.rules.matches(m as unknown as z.output<z.ZodObject<R>>, t as z.output<S>, relation),
    },
    enforcement: typeof enforcement === 'function' ? enforcement : () => enforcement,
    vendsCredentials: d.vendsCredentials ?? false,
    approvalAlternative: d.approvalAlternative,
  };
}

/** Pattern lists in the rules file: `*` and `?` as IAM has them; write `["*"]` to mean any. */
export const rulePatterns = z.array(z.string().min(1).max(2048)).min(1).max(200);

/** Who receives the access, for kinds whose principal type the broker can tell; absent means any principal the kind accepts. */
export const rulePrincipalFields = {
  principals: rulePatterns.optional(),
  principalTypes: z.array(z.enum(PRINCIPAL_TYPES)).min(1).optional(),
};

/** The registry of every kind the broker serves, built once at the composition root. */
export class TargetKinds {
  private readonly byKind = new Map<TargetKind, TargetKindDescriptor>();
  /** Any known target, discriminated by `kind`. */
  readonly targetSchema: z.ZodType<Target>;

  constructor(descriptors: Iterable<TargetKindDescriptor>) {
    for (const d of descriptors) {
      if (this.byKind.has(d.kind)) throw new Error(`target kind ${d.kind} is described twice`);
      if (!(CLOUDS as readonly string[]).includes(d.cloud) || !d.kind.startsWith(`${d.cloud}.`) || d.kind.length === d.cloud.length + 1) {
        throw new Error(`target kind ${d.kind} must be named <cloud>.<name> after its cloud ${d.cloud}`);
      }
      const literal = d.target.shape.kind;
      if (!(literal instanceof z.ZodLiteral) || literal.value !== d.kind) throw new Error(`target kind ${d.kind}: its schema's kind must be the literal ${d.kind}`);
      this.byKind.set(d.kind, d);
    }
    const schemas = [...this.byKind.values()].map((d) => d.target);
    if (!schemas.length) throw new Error('no target kinds');
    this.targetSchema = z.discriminatedUnion('kind', schemas as [z.ZodObject, ...z.ZodObject[]]) as unknown as z.ZodType<Target>;
  }

  /** Every kind, in the order described. */
  get names(): TargetKind[] {
    return [...this.byKind.keys()];
  }

  all(): TargetKindDescriptor[] {
    return [...this.byKind.values()];
  }

  has(kind: string): boolean {
    return this.byKind.has(kind);
  }

  /** The descriptor of a kind the registry knows; anything else is a programming error (requests are parsed first). */
  get(kind: TargetKind): TargetKindDescriptor {
    const d = this.byKind.get(kind);
    if (!d) throw new Error(`unknown target kind ${kind}`);
    return d;
  }

  ofCloud(cloud: CloudName): TargetKindDescriptor[] {
    return this.all().filter((d) => d.cloud === cloud);
  }

  vendsCredentials(kind: TargetKind): boolean {
    return this.byKind.get(kind)?.vendsCredentials ?? false;
  }

  enforcement(kind: TargetKind, principal: Principal): Enforcement {
    return this.get(kind).enforcement(principal);
  }
}
