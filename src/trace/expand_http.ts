// One HTTP request arrives as one event, sent when it ended (src/agent/web.ts), and is stored as the two rows
// it stands for, as if sent one by one, so queries and indexes see what they always saw:
// - a served request, `http/exchange`: `http/request` at its start and `http/response` at its end;
// - a request made, `http/client_exchange`: `http/client_request` at its start and `http/client_response`
//   (or `http/client_error`) at its end.
// A request still in flight was sent as its start on its own and needs nothing here.
import type { TextEvent } from '../shared/protocol.js';
import { endOfString } from './json_text.js';

export function isExchange(e: TextEvent): boolean {
  return e[1] === 'http' && (e[2] === 'exchange' || e[2] === 'client_exchange');
}

/**
 * The two rows' payloads are put together from slices of the exchange's text (its items are already JSON),
 * where parsing it and stringifying two objects cost more than the slicing. The request's id comes as its
 * number in the thread (`ref`), spelled here as the agent spells it: `<actor>:r<n>` served (also its
 * correlation id), `<actor>:q<n>` made.
 */
export function expandExchange(e: TextEvent): [TextEvent, TextEvent] {
  const items = flatItems(e[8] ?? '') ?? parsedItems(e[8]);
  const served = e[2] === 'exchange';
  const ref = typeof e[7] === 'number' ? `${e[3]}:${served ? 'r' : 'q'}${e[7]}` : e[7];
  const end = e[0];
  if (served) {
    // [method, url, route, status, duration_ns(, start method, start url)]: the method and URL a request came
    // with come last when the app rewrote them on the way.
    const [method, url, route, status, durationNs] = items;
    const [startMethod, startUrl] = items.length === 7 ? [items[5], items[6]] : [method, url];
    const corr = e[6] ?? (typeof ref === 'string' ? ref : null);
    return [
      [end - Number(durationNs), 'http', 'request', e[3], e[4], e[5], corr, ref, `{"method":${startMethod},"url":${startUrl}}`],
      [end, 'http', 'response', e[3], e[4], e[5], corr, ref, `{"method":${method},"url":${url},"route":${route},"status":${status},"duration_ns":${durationNs}}`],
    ];
  }
  // [method, url, status, duration_ns(, error)]
  const [method, url, status, durationNs, error] = items;
  return [
    [end - Number(durationNs), 'http', 'client_request', e[3], e[4], e[5], e[6], ref, `{"method":${method},"url":${url}}`],
    error === undefined
      ? [end, 'http', 'client_response', e[3], e[4], e[5], e[6], ref, `{"status":${status},"duration_ns":${durationNs}}`]
      : [end, 'http', 'client_error', e[3], e[4], e[5], e[6], ref, `{"status":${status},"duration_ns":${durationNs},"error":${error}}`],
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
    let end = c === 34 ? endOfString(text, i) + 1 : text.indexOf(',', i);
    if (end === 0) return undefined;
    if (end < 0 || end > last) end = last;
    items.push(text.slice(i, end));
    if (end === last) return items.length >= 4 ? items : undefined;
    if (text.charCodeAt(end) !== 44) return undefined;
    i = end + 1;
  }
  return undefined;
}

/** The same items by parsing (a shape flatItems does not know: an error's capture, or never written by the agent). */
function parsedItems(text: string | null): string[] {
  const parsed = (text === null ? [] : JSON.parse(text)) as unknown[];
  return Array.from({ length: Math.max(4, parsed.length) }, (_, i) => JSON.stringify(parsed[i] ?? null));
}
