// The secret matchers (src/shared/redact.ts): key names as whole words, secret-looking values in strings,
// and the in-place pass the tracer runs over every payload.
import { describe, expect, it } from 'vitest';
import { isCardNumber, isSecretKey, keyMatcher, mayHoldSecret, redactJson, redactString, TRIGGERS } from '../../src/shared/redact.js';
import { paramNames, secretParams } from '../../src/agent/calls.js';

describe('secret keys', () => {
  it('matches the secret words as whole words in camel, snake, kebab and upper case', () => {
    const secret = [
      'password', 'Password', 'userPassword', 'DB_PASSWORD', 'passwd', 'passphrase', 'secret', 'client_secret', 'secrets',
      'token', 'accessToken', 'refresh_token', 'X-Auth-Token', 'authorization', 'Authorization', 'cookie', 'Set-Cookie',
      'apiKey', 'APIKey', 'api_key', 'x-api-key', 'apikey', 'API_KEY', 'privateKey', 'private_key', 'credential',
      'credentials', 'session', 'sessionId', 'session_id',
    ];
    expect(secret.filter((k) => !isSecretKey(k))).toEqual([]);
  });

  it('does not match words that merely contain them', () => {
    const plain = [
      'numPassingTests', 'numPassedTests', 'passing', 'passThrough', 'bypass', 'compass', 'tokenizer', 'maxTokens',
      'keyboard', 'keys', 'monkey', 'author', 'authored', 'secretary', 'cookieless', 'user', 'id', 'sessions', '',
    ];
    expect(plain.filter((k) => isSecretKey(k))).toEqual([]);
  });

  it('config `redact` replaces the built-in words with the user\'s own case-insensitive pattern', () => {
    expect(keyMatcher('')('password')).toBe(true);
    expect(keyMatcher(undefined)('numPassingTests')).toBe(false);
    const mine = keyMatcher('^user$|ssn');
    expect(['user', 'USER', 'patientSSN'].map(mine)).toEqual([true, true, true]);
    expect(['password', 'username'].map(mine)).toEqual([false, false]);
  });
});

describe('secret values in strings', () => {
  const cases: [string, string][] = [
    ['Authorization: Bearer abc.def-ghi_123', 'Authorization: Bearer [redacted]'],
    ['basic dXNlcjpodW50ZXIy', 'basic [redacted]'],
    ['https://api.example.com/v1?user=ada&access_token=s3cr3t&page=2', 'https://api.example.com/v1?user=ada&access_token=[redacted]&page=2'],
    ['GET /login?password=hunter2', 'GET /login?password=[redacted]'],
    ['postgres://ada:hunter2@db.example.com:5432/app', 'postgres://ada:[redacted]@db.example.com:5432/app'],
    ['paid with 4111 1111 1111 1111 today', 'paid with [redacted] today'],
    ['5500-0000-0000-0004', '[redacted]'],
    ['378282246310005', '[redacted]'],
    ['key sk_live_4eC39HqLyjWDarjtT1zdp7dc end', 'key [redacted] end'],
    ['rk_test_51H8abcdefghijklmnop', '[redacted]'],
    ['ghp_abcdefghijklmnopqrstuvwxyz0123456789', '[redacted]'],
    ['aws AKIAIOSFODNN7EXAMPLE', 'aws [redacted]'],
    ['xoxb-1234567890-abcdefghij', '[redacted]'],
    ['-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY----- after', '-----BEGIN RSA PRIVATE KEY-----[redacted] after'],
    ['-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0B (cut by the length cap)', '-----BEGIN PRIVATE KEY-----[redacted]'],
    ['jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'jwt [redacted]'],
    ['--password=hunter2 --port=80', '--password=[redacted] --port=80'],
    ['--url=https://x.test/?token=abc123', '--url=https://x.test/?token=[redacted]'],
    ['see https://api.test/me?access_token=t0k', 'see https://api.test/me?access_token=[redacted]'],
    ['numPassingTests: 12, password: "hunter2"', 'numPassingTests: 12, password: "[redacted]"'],
    ['{"apiKey":"k-123","ok":1}', '{"apiKey":"[redacted]","ok":1}'],
  ];
  it.each(cases)('%j', (input, output) => {
    expect(redactString(input)).toBe(output);
  });

  it('leaves ordinary text alone, and returns the very same string when there is nothing to redact', () => {
    const plain = [
      'Bearer authentication is described in RFC 6750',
      'Basic settings',
      'at 2026-12-01T12:00:00.000Z on port 8080',
      'order 1764590000000123 shipped', // 16 digits that pass no issuer check
      '4111111111111112', // fails Luhn
      'numPassingTests=12 maxTokens=100',
      'https://example.com/search?q=token&page=2',
      'short',
    ];
    for (const s of plain) expect(redactString(s)).toBe(s);
  });

  it('the scan before redacting misses no trigger: wherever one matches, it says a secret may be there', () => {
    // Random text made of pieces of every trigger (in any case, cut short, next to digits and separators).
    const triggers = new RegExp(TRIGGERS.source, 'i');
    const pieces = ['PRIVATE KEY-----', 'eyJ', 'sk_', 'rk_', 'gh', 'p_', 'o_', 'u_', 's_', 'r_', 'github_pat_', 'AKIA', 'ASIA', 'xox', 'a-', 'b-', 'p-', 'r-', 's-', 'XOXR-', 'xoxs-', 'GHU_', 'ghr_', 'AIza', 'npm_', 'glpat-', 'Bearer', 'BASIC', '://', 'u@', 'PaSs', 'secret', 'tOken', 'auth', 'cookie', 'KEY', 'credential', 'session', '1234', '5678 ', '9012-', '3456', '--'];
    const letters = 'abcdeghijklmnopqrstuvwxyzABCDEGHIKLNOPRSTUVXYZ0123456789 -_:/@."{}[],ſKİı\u212a\ud83d';
    let seed = 11;
    const next = (n: number) => ((seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0) >>> 8) % n;
    let matched = 0;
    for (let i = 0; i < 50_000; i++) {
      let s = '';
      for (let n = next(40); n > 0; n--) s += next(20) === 0 ? pieces[next(pieces.length)]!.slice(next(3) === 0 ? 1 : 0) : letters[next(letters.length)];
      // (Shorter than 8 characters, nothing is redacted.)
      const found = s.length >= 8 && triggers.test(s);
      if (found) matched++;
      if (found && !mayHoldSecret(s)) expect.fail(`a trigger in ${JSON.stringify(s)} was missed`);
      if (!mayHoldSecret(s)) expect(redactString(s)).toBe(s);
    }
    expect(matched).toBeGreaterThan(10_000);
    expect(mayHoldSecret(JSON.stringify({ i: 7, route: '/api/v1/orders/:id', total: 129.95, user: { id: 42, name: 'Ada Lovelace' } }))).toBe(false);
  });

  it('Luhn and issuer checks for card numbers', () => {
    expect(['4111111111111111', '4012888888881881', '6011111111111117', '3530111333300000'].map(isCardNumber)).toEqual([true, true, true, true]);
    expect(['4111111111111112', '1234567812345670', '411111111111'].map(isCardNumber)).toEqual([false, false, false]);
    // Written in groups as cards are: 4-4-4-4, Amex's 4-6-5; numbers in a row are not one (a port and two pids).
    expect(['4111 1111 1111 1111', '4111-1111-1111-1111', '3782 822463 10005'].map(isCardNumber)).toEqual([true, true, true]);
    expect(['47011 23059 23058', '4111 1111-1111 1111', '4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1'].map(isCardNumber)).toEqual([false, false, false]);
    expect(redactString('ready 47011 23059 23058')).toBe('ready 47011 23059 23058');
  });
});

describe('the tracer\'s pass over payloads', () => {
  it('redacts every string in place and the item after a secret-named flag', () => {
    const payload = {
      argv: ['node', 'app.js', '--token', 'abc', '--port', '80'],
      url: '/cb?code=1&client_secret=shh',
      nested: [{ text: 'Bearer xyz1234567' }, 7, null],
      numPassingTests: 3,
    };
    expect(redactJson(payload)).toBe(payload);
    expect(payload).toEqual({
      argv: ['node', 'app.js', '--token', '[redacted]', '--port', '80'],
      url: '/cb?code=1&client_secret=[redacted]',
      nested: [{ text: 'Bearer [redacted]' }, 7, null],
      numPassingTests: 3,
    });
    expect(redactJson('Basic dXNlcjpodW50ZXIy')).toBe('Basic [redacted]');
  });
});

describe('secret parameters', () => {
  it('reads parameter names from the source of functions, arrows, methods and classes', () => {
    expect(paramNames('function login(user, password) {}')).toEqual(['user', 'password']);
    expect(paramNames('async (url, { token }, apiKey = f(1, 2), ...rest) => {}')).toEqual(['url', '', 'apiKey', '...rest']);
    expect(paramNames('token => token')).toEqual(['token']);
    expect(paramNames('connect(host /* the db, really */, secret = f("a"), [x, y] = [1, 2]) { return 1 }')).toEqual(['host', 'secret', '']);
    expect(paramNames('class Db { constructor(url, password) {} }')).toEqual(['url', 'password']);
    expect(paramNames('function () {}')).toEqual([]);
  });

  it('finds which positions hold secrets', () => {
    expect(secretParams(function login(_user: string, _password: string) {})).toEqual({ at: [1], restFrom: Infinity });
    expect(secretParams((_a: number, ..._secrets: string[]) => 0)).toEqual({ at: [], restFrom: 1 });
    expect(secretParams((numPassingTests: number) => numPassingTests)).toEqual({ at: [], restFrom: Infinity });
  });
});
