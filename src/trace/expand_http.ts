// A served HTTP request arrives as one `http/exchange` event, sent when its response finished
// (src/agent/web.ts), and is stored as the two rows it stands for: `http/request` at its start and
// `http/response` at its end, as if sent one by one, so queries and indexes see what they always saw.
// A request still in flight was sent as `http/request` on its own and needs nothing here.
import type { TextEvent } from '../shared/protocol.js';

/**
 * [method, url, route, status, duration_ns], then the request's own method and url when they differed at its
 * start (an app that rewrote req.url on the way).
 */
type Exchange = [method: string | null, url: string | null, route: string | null, status: number | null, durationNs: number, startMethod?: string | null, startUrl?: string | null];

export function isExchange(e: TextEvent): boolean {
  return e[1] === 'http' && e[2] === 'exchange';
}

export function expandExchange(e: TextEvent): [TextEvent, TextEvent] {
  const [method, url, route, status, duration_ns, ...start] = JSON.parse(e[8]!) as Exchange;
  const [startMethod, startUrl] = start.length === 2 ? start : [method, url];
  const end = e[0];
  return [
    [end - duration_ns, 'http', 'request', e[3], e[4], e[5], e[6], e[7], JSON.stringify({ method: startMethod, url: startUrl })],
    [end, 'http', 'response', e[3], e[4], e[5], e[6], e[7], JSON.stringify({ method, url, route, status, duration_ns })],
  ];
}
