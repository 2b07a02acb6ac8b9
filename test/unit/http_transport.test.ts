// The HTTP transport's pure checks: what --http accepts, what counts as loopback, which Origins pass.
import { describe, expect, it } from 'vitest';
import { checkBind, isLoopbackHost, originAllowed, parseHostPort } from '../../src/transport/http.js';

describe('HTTP transport checks', () => {
  it('parses --http values, defaulting to 127.0.0.1:7337', () => {
    expect(parseHostPort('')).toEqual({ host: '127.0.0.1', port: 7337 });
    expect(parseHostPort('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseHostPort('localhost:8080')).toEqual({ host: 'localhost', port: 8080 });
    expect(parseHostPort('9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseHostPort(':9000')).toEqual({ host: '127.0.0.1', port: 9000 });
    expect(parseHostPort('0.0.0.0')).toEqual({ host: '0.0.0.0', port: 7337 });
    expect(parseHostPort('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(() => parseHostPort('127.0.0.1:70000')).toThrow('--http "127.0.0.1:70000": the port must be a number from 0 to 65535');
    expect(() => parseHostPort('::1:9000')).toThrow(/IPv6 address in brackets/);
  });

  it('counts localhost, 127/8 and ::1 as loopback, and nothing else', () => {
    for (const h of ['localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.10', 'example.com', 'localhost.example.com', '']) expect(isLoopbackHost(h), h).toBe(false);
  });

  it('refuses a non-loopback bind unless remote serving is asked for', () => {
    expect(() => checkBind('127.0.0.1', false)).not.toThrow();
    expect(() => checkBind('0.0.0.0', false)).toThrow(/^refusing to serve MCP on 0\.0\.0\.0: .*pass --allow-remote/);
    expect(() => checkBind('0.0.0.0', true)).not.toThrow();
  });

  it('lets through no Origin and loopback pages, and refuses the rest', () => {
    for (const o of [undefined, 'http://127.0.0.1:7337', 'http://localhost:6274', 'https://localhost', 'http://[::1]:3000']) expect(originAllowed(o), String(o)).toBe(true);
    for (const o of ['http://evil.example', 'http://127.0.0.1.evil.example', 'null', 'file://', 'chrome-extension://abc', 'http://192.168.1.10:7337']) expect(originAllowed(o), o).toBe(false);
  });
});
