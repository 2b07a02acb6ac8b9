// The host's expansion of an `http/exchange` event into the request and response rows it stands for: the
// payload texts must be exactly what JSON.stringify gives for the objects the agent used to send one by one.
import { describe, expect, it } from 'vitest';
import type { TextEvent } from '../../src/shared/protocol.js';
import { expandExchange } from '../../src/trace/expand_http.js';

const exchange = (items: unknown[], ref: string | number = 7, subtype = 'exchange', corr: string | null = null): TextEvent => [5_000, 'http', subtype, '42/w1', null, null, corr, ref, JSON.stringify(items)];

describe('expandExchange', () => {
  it('spells the request id from its number and gives both rows the texts JSON.stringify would', () => {
    const urls = ['/a', '/a,b"c\\d', '/é?q=[1,2]&x={"y":1}', '/\u0001\n"', ''];
    for (const url of urls) {
      const [req, res] = expandExchange(exchange(['GET', url, '/a/:id', 404, 1_200]));
      expect(req).toEqual([3_800, 'http', 'request', '42/w1', null, null, '42/w1:r7', '42/w1:r7', JSON.stringify({ method: 'GET', url })]);
      expect(res).toEqual([5_000, 'http', 'response', '42/w1', null, null, '42/w1:r7', '42/w1:r7', JSON.stringify({ method: 'GET', url, route: '/a/:id', status: 404, duration_ns: 1_200 })]);
    }
  });

  it('keeps the method and URL a request came with when the app rewrote them, and nulls as nulls', () => {
    const [req, res] = expandExchange(exchange(['POST', '/rewritten', null, null, 9, 'GET', '/original']));
    expect(req[8]).toBe(JSON.stringify({ method: 'GET', url: '/original' }));
    expect(res[8]).toBe(JSON.stringify({ method: 'POST', url: '/rewritten', route: null, status: null, duration_ns: 9 }));
  });

  it('keeps an id and a correlation id that came spelled out', () => {
    const e = exchange(['GET', '/', null, 200, 1], '42:r3');
    e[6] = '42:r1';
    const [req, res] = expandExchange(e);
    expect([req[6], req[7], res[6], res[7]]).toEqual(['42:r1', '42:r3', '42:r1', '42:r3']);
  });

  it('expands a request made into its client_request and its client_response or client_error', () => {
    const url = 'http://127.0.0.1:80/a,"b"';
    const [req, res] = expandExchange(exchange(['GET', url, 200, 300], 9, 'client_exchange', '42/w1:r8'));
    expect(req).toEqual([4_700, 'http', 'client_request', '42/w1', null, null, '42/w1:r8', '42/w1:q9', JSON.stringify({ method: 'GET', url })]);
    expect(res).toEqual([5_000, 'http', 'client_response', '42/w1', null, null, '42/w1:r8', '42/w1:q9', JSON.stringify({ status: 200, duration_ns: 300 })]);
    const error = { $t: 'error', name: 'Error', message: 'connect ECONNREFUSED, "x"', stack: 'Error: …\n    at x' };
    const [, failed] = expandExchange(exchange(['POST', url, null, 40, error], 10, 'client_exchange'));
    expect(failed).toEqual([5_000, 'http', 'client_error', '42/w1', null, null, null, '42/w1:q10', JSON.stringify({ status: null, duration_ns: 40, error })]);
  });
});
