// A served HTTP request arrives as one `http/exchange` event, sent when its response finished
// (src/agent/web.ts), and is stored as the two rows it stands for: `http/request` at its start and
// `http/response` at its end, as if sent one by one, so queries and indexes see what they always saw.
// A request still in flight was sent as `http/request` on its own and needs nothing here.
import type { TextEvent } from '../shared/protocol.js';

/**
 * The payload's items: [method, url, route, status, duration_ns], then the request's own method and url when
 * they differed at its start (an app that rewrote req.url on the way).
 */
type Exchange = [method: string | null, url: string | null, route: string | null, status: number | null, durationNs: number, startMethod?: string | null, startUrl?: string | null];

export function isExchange(e: TextEvent): boolean {
  return e[1] === 'http' && e[2] === 'exchange';
}

/**
 * The two rows' payloads are put together from slices of the exchange's text (its items are already JSON),
 * where parsing it and stringifying two objects cost more than the slicing. The request's id comes as its
 * number in the thread (`ref`), spelled here as the agent spells it, `<actor>:r<n>`; it is also the
 * request's correlation id.
 */
export function expandExchange(e: TextEvent): [TextEvent, TextEvent] {
  const items = flatItems(e[8] ?? '') ?? parsedItems(e[8]);
  const [method, url, route, status, durationNs] = items;
  const [startMethod, startUrl] = items.length === 7 ? [items[5], items[6]] : [method, url];
  const end = e[0];
  const ref = typeof e[7] === 'number' ? `${e[3]}:r${e[7]}` : e[7];
  const corr = e[6] ?? (typeof ref === 'string' ? ref : null);
  return [
    [end - Number(durationNs), 'http', 'request', e[3], e[4], e[5], corr, ref, `{"method":${startMethod},"url":${startUrl}}`],
    [end, 'http', 'response', e[3], e[4], e[5], corr, ref, `{"method":${method},"url":${url},"route":${route},"status":${status},"duration_ns":${durationNs}}`],
  ];
}

/**
 * The items of a flat JSON array's text — strings, numbers, null, as the agent writes an exchange — as their
 * own JSON texts; undefined for any other shape.
 */
function flatItems(text: string): string[] | undefined {
  const last = text.length - 1;
  if (text.charCodeAt(0) !== 91 || text.charCodeAt(last) !== 93) return undefined;
  const items: string[] = [];
  for (let i = 1; i < last; ) {
    const c = text.charCodeAt(i);
    if (c === 91 || c === 123) return undefined;
    let end = c === 34 ? closingQuote(text, i) + 1 : text.indexOf(',', i);
    if (end === 0) return undefined;
    if (end < 0 || end > last) end = last;
    items.push(text.slice(i, end));
    if (end === last) return items.length >= 5 ? items : undefined;
    if (text.charCodeAt(end) !== 44) return undefined;
    i = end + 1;
  }
  return undefined;
}

/** The closing quote of the JSON string whose opening quote is at `i` (-1 if none). */
function closingQuote(text: string, i: number): number {
  for (let q = text.indexOf('"', i + 1); q >= 0; q = text.indexOf('"', q + 1)) {
    let slashes = 0;
    while (text.charCodeAt(q - 1 - slashes) === 92) slashes++;
    if (slashes % 2 === 0) return q;
  }
  return -1;
}

/** The same items by parsing (a shape flatItems does not know: never written by the agent). */
function parsedItems(text: string | null): string[] {
  const parsed = (text === null ? [] : JSON.parse(text)) as Exchange;
  const items = Array.from({ length: Math.max(5, parsed.length) }, (_, i) => JSON.stringify(parsed[i] ?? null));
  return items.length === 7 ? items : items.slice(0, 5);
}
