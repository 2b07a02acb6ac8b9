// Secrets: what is never stored. Two tests, used on both sides of the wire:
// - key names (object keys, Map keys, parameter names, `name=value` pairs), matched as whole words in camel,
//   snake and kebab case, so `apiKey`, `X-API-KEY`, `db_password` and `sessionId` are secret and
//   `numPassingTests`, `tokenizer` or `keyboard` are not;
// - values that look like credentials wherever they appear inside a string: `Bearer`/`Basic` credentials,
//   URL query parameters and `name=value` pairs with a secret name, URL user info, card numbers (Luhn and
//   issuer checked), and well-known key formats (Stripe, GitHub, AWS, Slack, Google, npm, GitLab, PEM private
//   keys, JWTs).
// The agent applies the key test while it serializes (it alone sees the structure: Map keys, parameter
// names); the tracer applies both to every payload before it is written (src/trace/ingest.ts), which costs
// the target nothing and covers what no serializer walks (URLs, argv, log text).
//
// Import-free: bundled into the agent.

export const REDACTED = '[redacted]';

const SECRET_WORDS = new Set([
  'password',
  'passwords',
  'passwd',
  'passphrase',
  'secret',
  'secrets',
  'token',
  'authorization',
  'cookie',
  'cookies',
  'apikey',
  'privatekey',
  'credential',
  'credentials',
  'session',
  'sessionid',
]);

// Pairs of words that are secret together: `api key`, `private key`.
const SECRET_PAIRS = new Set(['api key', 'private key', 'api keys', 'private keys']);

// Words as people write them in identifiers: `numPassingTests` → num passing tests, `APIKey` → api key,
// `X-Api-Key` → x api key, `DB_PASSWORD` → db password.
const WORD = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+/g;

// The key test runs inside the target: built-ins it calls are taken now, bound to the original `call`, so a
// target that later patches RegExp.prototype.exec or Map.prototype.get cannot get its code run by us.
const uncurry = <R>(fn: unknown) => Function.prototype.bind.call(Function.prototype.call, fn as () => unknown) as (self: unknown, ...a: unknown[]) => R;
const regexpExec = uncurry<RegExpExecArray | null>(RegExp.prototype.exec);
const toLower = uncurry<string>(String.prototype.toLowerCase);
const setHas = uncurry<boolean>(Set.prototype.has);
const mapGet = uncurry<boolean | undefined>(Map.prototype.get);
const mapSet = uncurry<unknown>(Map.prototype.set);
const mapClear = uncurry<void>(Map.prototype.clear);
const mapSize = uncurry<number>(Object.getOwnPropertyDescriptor(Map.prototype, 'size')!.get);

const cache = new Map<string, boolean>();

/** Whether a key names a secret (whole words, any case convention). Cached: keys repeat. */
export function isSecretKey(key: string): boolean {
  const hit = mapGet(cache, key);
  if (hit !== undefined) return hit;
  const secret = key.length <= 200 && wordsAreSecret(key);
  if (mapSize(cache) >= 4096) mapClear(cache);
  mapSet(cache, key, secret);
  return secret;
}

function wordsAreSecret(key: string): boolean {
  WORD.lastIndex = 0;
  let previous = '';
  for (let m = regexpExec(WORD, key); m !== null; m = regexpExec(WORD, key)) {
    const word = toLower(m[0]);
    if (setHas(SECRET_WORDS, word)) return true;
    if (previous !== '' && setHas(SECRET_PAIRS, `${previous} ${word}`)) return true;
    previous = word;
  }
  return false;
}

/**
 * The key test of config `redact`: empty (the default) for the built-in secret words, else the user's own
 * case-insensitive regular expression, which replaces them. Values that look like secrets are redacted
 * whatever it says.
 */
export function keyMatcher(pattern?: string): (key: string) => boolean {
  if (typeof pattern !== 'string' || pattern === '') return isSecretKey;
  let re: RegExp;
  try {
    re = new RegExp(pattern, 'i');
  } catch {
    return isSecretKey;
  }
  return (key) => regexpExec(re, key) !== null;
}

// ---------------------------------------------------------------------------------------------------------
// Values.

// One scan finds which patterns below can match at all: most strings have none of the triggers and cost one
// failed regex pass; a URL with a query or a timestamp wakes one pattern, not all seven (each replace is a
// scan of its own). Group n of TRIGGERS gates PATTERNS[n - 1].
export const TRIGGERS = /(PRIVATE KEY-----)|(eyJ)|(sk_|rk_|gh[pousr]_|github_pat_|A[KS]IA|xox[abprs]-|AIza|npm_|glpat-)|(bearer|basic)|(:\/\/[^\s/@]*@)|(pass|secret|token|auth|cookie|key|credential|session)|(\d(?:[ -]?\d){12})/gi;

const PATTERNS: { re: RegExp; fix: (m: string, ...groups: string[]) => string }[] = [
  // PEM private keys, possibly cut by a length cap before their END line.
  {
    re: /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
    fix: (_m, kind) => `-----BEGIN ${kind}PRIVATE KEY-----${REDACTED}`,
  },
  // JSON Web Tokens: header.payload.signature, the first two base64url JSON objects.
  { re: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, fix: () => REDACTED },
  // Vendor key formats.
  {
    re: /\b(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|A[KS]IA[0-9A-Z]{16}|xox[abprs]-[A-Za-z0-9-]{10,}|AIza[0-9A-Za-z_-]{30,}|npm_[A-Za-z0-9]{30,}|glpat-[A-Za-z0-9_-]{20,})/g,
    fix: () => REDACTED,
  },
  // HTTP credentials: `Bearer <token>`, `Basic <base64>`.
  {
    re: /\b(Bearer|Basic)(\s+)([A-Za-z0-9._~+/-]+=*)/gi,
    fix: (m, scheme, space, cred) => (credentialLike(scheme, cred) ? `${scheme}${space}${REDACTED}` : m),
  },
  // URL user info: scheme://user:password@host.
  { re: /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:)([^\s/@]+)@/gi, fix: (_m, head) => `${head}${REDACTED}@` },
  // name=value (query strings, form bodies, env-style and `--flag=value`) and `name: value` in text, when the
  // name is secret. A value stops at "?", so `url=https://x/?token=…` and `https://x/?token=…` reach the query.
  {
    re: /([A-Za-z_][\w.-]*)(["']?\s*[=:]\s*["']?)([^\s&;,"'#<>?]+)/g,
    fix: (m, name, sep, value) => (value !== REDACTED && !SCHEME.test(value) && isSecretKey(name) ? `${name}${sep}${REDACTED}` : m),
  },
  // Card numbers: 13–19 digits, optionally grouped by spaces or dashes.
  { re: /\b\d(?:[ -]?\d){12,18}\b/g, fix: (m) => (isCardNumber(m) ? REDACTED : m) },
];

// `Authorization: Bearer …`: the credential after the scheme is the secret, and the pattern above took it.
const SCHEME = /^(?:Bearer|Basic)$/i;

function credentialLike(scheme: string, cred: string): boolean {
  if (cred.length < 8) return false;
  if (scheme.toLowerCase() === 'basic') {
    // base64 of `user:password`: padded to a multiple of 4, mixed case or digits.
    return cred.length % 4 === 0 && /[A-Z]/.test(cred) && /[a-z0-9]/.test(cred);
  }
  // An opaque token has digits or punctuation, or is long and mixed case: "Bearer authentication" is prose.
  return /[\d._~+/=-]/.test(cred) || (cred.length >= 16 && /[A-Z]/.test(cred) && /[a-z]/.test(cred));
}

/** Issuer prefixes of the card networks (Visa, Mastercard, Amex, Discover, Diners, JCB, UnionPay, Maestro). */
const CARD_PREFIX = /^(?:4|5[1-5]|2[2-7]|3[47]|3[068]|6(?:011|5|4[4-9]|2)|35|50|5[6-9]|6[37])/;

/**
 * Card numbers are written whole or in groups led by 4 digits (4-4-4-4, Amex 4-6-5, Diners 4-6-4, 4-4-4-4-3):
 * numbers that merely follow one another are not one ("ready 47011 23059 23058", a port and two pids, passed
 * the issuer and Luhn checks and was logged as "ready [redacted]").
 */
const CARD_GROUPS = /^\d{4}(?:([ -])\d{3,6}(?:\1\d{3,6})*)?$|^\d+$/;

export function isCardNumber(text: string): boolean {
  if (!CARD_GROUPS.test(text)) return false;
  let digits = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) digits += text[i];
  }
  if (digits.length < 13 || digits.length > 19 || !CARD_PREFIX.test(digits)) return false;
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

// What TRIGGERS can match, spelled out for mayHoldSecret's scan: every match holds one of these words (ASCII
// letters in any case: "PRIVATE KEY-----" holds "key", "://…@" starts with "://"), or is 13 digits with single
// spaces or dashes between them. test/unit/redact.test.ts holds the scan to TRIGGERS.
const TRIGGER_WORDS = ['eyj', 'sk_', 'rk_', 'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_', 'akia', 'asia', 'xoxa-', 'xoxb-', 'xoxp-', 'xoxr-', 'xoxs-', 'aiza', 'npm_', 'glpat-', 'bearer', 'basic', 'pass', 'secret', 'token', 'auth', 'cookie', 'key', 'credential', 'session', '://'];
/** The scan's tables, made on first use (on the host only: the agent's bundle leaves them out). */
interface TriggerTables {
  /** Characters as the scan compares them: ASCII with letters lowered; past ASCII 0 (a case-insensitive regex matches no ASCII letter with one). */
  folded: Uint8Array;
  /** Whether a word starts with a pair of folded characters, and the words by their pair. */
  startsWord: Uint8Array;
  byPair: Map<number, string[]>;
}
let tables: TriggerTables | undefined;
function triggerTables(): TriggerTables {
  const folded = new Uint8Array(65536);
  for (let c = 0; c < 128; c++) folded[c] = c >= 65 && c <= 90 ? c + 32 : c;
  const startsWord = new Uint8Array(1 << 14);
  const byPair = new Map<number, string[]>();
  for (const w of TRIGGER_WORDS) {
    const pair = (w.charCodeAt(0) << 7) | w.charCodeAt(1);
    startsWord[pair] = 1;
    byPair.set(pair, [...(byPair.get(pair) ?? []), w]);
  }
  return (tables = { folded, startsWord, byPair });
}

/**
 * Whether any pattern could match: false means redactString gives `s` back as it is. One pass by hand that
 * stops at the first trigger: the host asks this of every payload before it is stored, where most have
 * none (~20 % less CPU than TRIGGERS.test over JSON payloads of 25–200 characters, 12 % fewer instructions).
 */
export function mayHoldSecret(s: string): boolean {
  if (s.length < 8) return false;
  const { folded, startsWord, byPair } = tables ?? triggerTables();
  let digits = 0;
  let gap = false;
  let previous = 0;
  for (let i = 0; i < s.length; i++) {
    const c = folded[s.charCodeAt(i)]!;
    if (c >= 48 && c <= 57) {
      if (++digits === 13) return true;
      gap = false;
    } else if (digits > 0) {
      if ((c === 32 || c === 45) && !gap) gap = true;
      else {
        digits = 0;
        gap = false;
      }
    }
    const pair = (previous << 7) | c;
    if (startsWord[pair] === 1 && wordAt(s, i - 1, byPair.get(pair)!, folded)) return true;
    previous = c;
  }
  return false;
}

/** Whether one of `words` (their first two characters matched already) is at `at`. */
function wordAt(s: string, at: number, words: string[], folded: Uint8Array): boolean {
  next: for (const w of words) {
    if (at + w.length > s.length) continue;
    for (let k = 2; k < w.length; k++) if (folded[s.charCodeAt(at + k)] !== w.charCodeAt(k)) continue next;
    return true;
  }
  return false;
}

/** The string with every secret-looking value replaced by "[redacted]"; the same string when there is none. */
export function redactString(s: string): string {
  if (s.length < 8) return s;
  TRIGGERS.lastIndex = 0;
  let wake = 0;
  for (let m = TRIGGERS.exec(s); m !== null; m = TRIGGERS.exec(s)) {
    for (let g = 1; g <= PATTERNS.length; g++) if (m[g] !== undefined) wake |= 1 << (g - 1);
  }
  if (wake === 0) return s;
  let out = s;
  for (let i = 0; i < PATTERNS.length; i++) {
    if ((wake & (1 << i)) === 0) continue;
    const p = PATTERNS[i]!;
    p.re.lastIndex = 0;
    out = out.replace(p.re, p.fix as (m: string, ...g: any[]) => string);
  }
  return out;
}

/**
 * Redacts a JSON-shaped value in place (the tracer's own objects, decoded from the wire): every string by
 * value, and the item after a secret-named flag in an array of strings (`["--password", "x"]`). Keys are the
 * agent's business (it knows the user's `redact`); the keys here are nodescope's own field names. Returns the
 * value, or its replacement when the value itself is a string.
 */
export function redactJson(value: unknown, secretKey: (key: string) => boolean = isSecretKey, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value);
  if (typeof value !== 'object' || value === null || depth > 64) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (typeof v === 'string') {
        if (i > 0 && flagNamesSecret(value[i - 1], secretKey)) value[i] = REDACTED;
        else {
          const r = redactString(v);
          if (r !== v) value[i] = r;
        }
      } else if (typeof v === 'object' && v !== null) redactJson(v, secretKey, depth + 1);
    }
    return value;
  }
  const obj = value as Record<string, unknown>;
  for (const k in obj) {
    const v = obj[k];
    if (typeof v === 'string') {
      const r = redactString(v);
      if (r !== v) obj[k] = r;
    } else if (typeof v === 'object' && v !== null) redactJson(v, secretKey, depth + 1);
  }
  return value;
}

// `--password hunter2` in an argv: the item after a flag with a secret name.
function flagNamesSecret(prev: unknown, secretKey: (key: string) => boolean): boolean {
  return typeof prev === 'string' && prev.length > 2 && prev.charCodeAt(0) === 45 && !prev.includes('=') && secretKey(prev.replace(/^-+/, ''));
}
