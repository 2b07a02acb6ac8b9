// Message pairing (src/query/messages.ts receiptsOf) and the content hash (src/trace/pairing.ts) on hand-made
// rows: the orders a real run can produce that are hard to provoke on purpose.
import { describe, expect, it } from 'vitest';
import { receiptsOf } from '../../src/query/messages.js';
import type { Row } from '../../src/query/rows.js';
import { Store, type EventRow } from '../../src/store/store.js';
import { messageHash } from '../../src/trace/pairing.js';

const MS = 1e6;
const BASE = 1_000_000 * MS;

function row(tsMs: number, subtype: 'send' | 'receive' | 'start', from: string, to: string, ref = 'h'): EventRow {
  if (subtype === 'start') return { ts_ns: BASE + tsMs * MS, wall_ms: tsMs, type: 'process', subtype: 'start', actor: to, from_actor: null, to_actor: null, corr: null, ref: null, payload: '{}' };
  return {
    ts_ns: BASE + tsMs * MS,
    wall_ms: tsMs,
    type: 'message',
    subtype,
    actor: subtype === 'send' ? from : to,
    from_actor: from,
    to_actor: to,
    corr: null,
    ref: `${from}>${to}#${ref}`,
    payload: '{"channel":"ipc","message":1}',
  };
}

/** Each send of `from` → `to` with the time (ms) of its receipt, or null. */
function paired(rows: EventRow[]): (number | null)[] {
  const store = new Store({});
  store.write(rows, []);
  const sends = store.db.prepare("SELECT * FROM events WHERE type = 'message' AND subtype = 'send' ORDER BY ts_ns, id").all() as Row[];
  const got = receiptsOf(store, sends);
  return sends.map((s) => (got.has(s.id) ? (got.get(s.id)!.ts_ns - BASE) / MS : null));
}

describe('pairing', () => {
  it('pairs identical messages first in, first out', () => {
    expect(paired([row(0, 'start', '', 'B'), row(10, 'send', 'A', 'B'), row(11, 'send', 'A', 'B'), row(12, 'receive', 'A', 'B'), row(13, 'receive', 'A', 'B'), row(14, 'send', 'A', 'B')])).toEqual([12, 13, null]);
  });

  it('a receipt stamped a little before its send (two clocks) still pairs', () => {
    expect(paired([row(0, 'start', '', 'B'), row(10.02, 'send', 'A', 'B'), row(10, 'receive', 'A', 'B')])).toEqual([10]);
  });

  it('sends from before the receiver started: received after it (they waited in the channel) pair', () => {
    expect(paired([row(1, 'send', 'A', 'B'), row(2, 'send', 'A', 'B'), row(5, 'start', '', 'B'), row(6, 'receive', 'A', 'B'), row(7, 'receive', 'A', 'B')])).toEqual([6, 7]);
  });

  it('sends from before the receiver started: received before it (no receipt recorded) stay unpaired, and later sends keep theirs', () => {
    expect(paired([row(1, 'send', 'A', 'B'), row(5, 'start', '', 'B'), row(6, 'send', 'A', 'B'), row(7, 'receive', 'A', 'B'), row(8, 'send', 'A', 'B'), row(9, 'receive', 'A', 'B')])).toEqual([null, 7, 9]);
  });

  it('a receipt whose send was never recorded pairs with nothing', () => {
    expect(paired([row(0, 'start', '', 'B'), row(2, 'receive', 'A', 'B'), row(100, 'send', 'A', 'B'), row(101, 'receive', 'A', 'B')])).toEqual([101]);
  });
});

describe('content hash', () => {
  it('an IPC message hashes like what JSON delivers: undefined members dropped, Dates as strings, NaN as null', () => {
    const sent = { channel: 'ipc', message: { ping: 1, mode: { $t: 'undefined' }, at: { $t: 'Date', v: '1970-01-01T00:00:00.000Z' }, list: [{ $t: 'undefined' }, { $t: 'number', v: 'NaN' }], m: { $t: 'Map', size: 0, entries: [] } } };
    const received = { channel: 'ipc', message: { ping: 1, at: '1970-01-01T00:00:00.000Z', list: [null, null], m: {} } };
    expect(messageHash(sent, JSON.stringify(sent))).toBe(messageHash(received, JSON.stringify(received)));
  });

  it('a worker message (structured clone) keeps undefined, so it is part of the hash; class names are not', () => {
    const a = { channel: 'worker', message: { mode: { $t: 'undefined' } } };
    const b = { channel: 'worker', message: {} };
    expect(messageHash(a, JSON.stringify(a))).not.toBe(messageHash(b, JSON.stringify(b)));
    const c = { channel: 'worker', message: { $class: 'Order', id: 1 } };
    const d = { channel: 'worker', message: { id: 1 } };
    expect(messageHash(c, JSON.stringify(c))).toBe(messageHash(d, JSON.stringify(d)));
  });
});
