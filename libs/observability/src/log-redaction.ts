/** What a redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

/** Shorter values are not scrubbed by value (a 3-letter "secret" would blank every word containing it). */
const MIN_SECRET_LENGTH = 8;

/** Schemes an `Authorization` header value may start with (the credential follows). */
const AUTH_SCHEMES = 'Bearer|Basic|Token|Splunk|ApiKey|Digest|Negotiate|SSWS|AWS4-HMAC-SHA256';

/**
 * Names (the end of a field, parameter or variable name) that say the value is a credential.
 * A name matches when it ends with one of these, whatever its prefix: `token`, `hec_token`,
 * `JIT_WEBHOOK_SECRET`, `webhookSecret`, `X-Api-Key`, `SecretAccessKey`, `client_secret`.
 * `tokenSubject` does not (the name must end there and be followed by `:` or `=`).
 */
const CREDENTIAL_NAME = 'secret|token|password|passwd|passphrase|api[-_]?key|access[-_]?key|signing[-_]?key|private[-_]?key';

/** Between a name and its value: optional (JSON-escaped) quotes around `:` or `=`. */
const SEPARATOR = String.raw`\\?["']?\s*[:=]\s*\\?["']?`;

/** A name starts where no identifier character precedes it (`\b` would not start after `_`). */
const NAME_START = '(?<![a-z0-9_-])';

/**
 * Secrets that have a recognisable shape wherever they appear, in a message or in JSON:
 * a whole PEM block (`-----BEGIN ... KEY-----` to its END line, or to the end of the line when
 * the END is missing), an `Authorization` header's credential (`Bearer`, `Token`, ...), a
 * bearer-style token anywhere, the password in a URL's userinfo (`postgres://user:pw@host`), and
 * the value of a field, parameter or variable whose name ends with a credential word
 * (`CREDENTIAL_NAME`), quoted or not, JSON-escaped or not. JSON literals (`null`, `true`,
 * `false`) are left, so a line stays valid JSON.
 */
const SHAPES: readonly [RegExp, string][] = [
  [/-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?(?:-----END \1-----|$)/g, REDACTED],
  [
    new RegExp(`${NAME_START}(authorization|proxy-authorization)(${SEPARATOR})(?:(${AUTH_SCHEMES})(\\s+))?[^\\s"'\\\\,;]+`, 'gi'),
    `$1$2$3$4${REDACTED}`,
  ],
  [/\b(Bearer|Basic|Splunk|ApiKey)(\s+)[^\s"'\\,;]+/gi, `$1$2${REDACTED}`],
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@"'\\]*:)[^\s@/"'\\]+@/gi, `$1${REDACTED}@`],
  [
    new RegExp(`${NAME_START}([a-z0-9_-]*?(?:${CREDENTIAL_NAME}))(${SEPARATOR})(?!(?:null|true|false)(?![a-z0-9]))([^\\s"'\\\\,;&}]+)`, 'gi'),
    `$1$2${REDACTED}`,
  ],
];

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Scrubs secrets out of log output: every known secret value (tokens, webhook secrets, the
 * database password, client secrets: whatever the composition root registers), raw or as JSON
 * escapes it, and the credential shapes above. Applied to each finished log line, so a secret
 * that reaches a message through an error text is caught as well as one in a field.
 */
export class LogRedactor {
  private readonly values = new Set<string>();
  private byValue: RegExp | null = null;

  /** Registers secret values (empty, undefined and very short values are ignored). */
  add(...secrets: (string | null | undefined)[]): this {
    let changed = false;
    for (const s of secrets) {
      if (!s || s.length < MIN_SECRET_LENGTH) continue;
      for (const form of [s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s)]) {
        if (!this.values.has(form)) {
          this.values.add(form);
          changed = true;
        }
      }
    }
    if (changed) {
      // Longest first, so a secret that contains another is replaced whole.
      const sorted = [...this.values].sort((a, b) => b.length - a.length);
      this.byValue = new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
    }
    return this;
  }

  /** The password of a URL such as DATABASE_URL (nothing when it has none or does not parse). */
  addUrlPassword(url: string | undefined): this {
    if (!url) return this;
    try {
      const parsed = new URL(url);
      return this.add(decodeURIComponent(parsed.password), parsed.password);
    } catch {
      return this;
    }
  }

  /** `text` with every known secret and credential shape replaced by `[REDACTED]`. */
  scrub(text: string): string {
    let out = this.byValue ? text.replace(this.byValue, REDACTED) : text;
    for (const [pattern, replacement] of SHAPES) out = out.replace(pattern, replacement);
    return out;
  }
}

/**
 * Field paths pino removes before a line is written (defence in depth: the request serializer
 * logs no headers and no body at all).
 */
export const REDACTED_FIELDS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.authorization',
  '*.Authorization',
  '*.cookie',
  '*.password',
  '*.secret',
  '*.token',
  '*.credentials',
  '*.SecretAccessKey',
  '*.SessionToken',
  '*.clientSecret',
  'credentials',
  'secret',
  'token',
];
