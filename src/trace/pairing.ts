// The content part of a message id: both sides of a message record what they saw, and the hash of that must
// agree. It is taken over what the channel actually delivers, so a send and its receipt hash alike:
// - IPC (`process.send`, `child.send`) serializes to JSON by default: members whose value is undefined, a
//   function or a symbol disappear, such array items become null, NaN and ±Infinity become null, a Date its
//   ISO string, Maps, Sets and RegExps `{}`. jest's workers send `{ mode: undefined, … }`.
//   ('advanced' serialization is structured clone, which keeps those: folding them the same way on both
//   sides still makes the two hashes equal.)
// - worker messages are structured clones, which drop prototypes: the receiver sees plain objects where the
//   sender had instances, so class names are ignored on every channel.

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function messageHash(payload: unknown, text: string): string {
  const p = payload as { channel?: unknown; message?: unknown } | null;
  if (p !== null && typeof p === 'object' && p.channel === 'ipc' && text.includes('"$t":"')) {
    return fnv1a(JSON.stringify({ channel: 'ipc', message: asJsonDelivers(p.message as Json, true) ?? null }));
  }
  return fnv1a(text);
}

// What `JSON.parse(JSON.stringify(v))` would have given, from the captured form. `undefined` means "absent"
// (dropped from an object, null in an array).
function asJsonDelivers(v: Json, top: boolean): Json | undefined {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((item) => asJsonDelivers(item, false) ?? null);
  const t = v.$t;
  if (typeof t === 'string') {
    switch (t) {
      case 'undefined':
      case 'function':
      case 'class':
      case 'symbol':
      case 'hole':
        return top ? null : undefined;
      case 'number':
        return v.v === '-0' ? 0 : null;
      case 'Date':
        return v.v === 'Invalid Date' ? null : v.v;
      case 'string':
      case 'bigint':
      case 'cut':
      case 'depth':
      case 'cycle':
      case 'getter':
      case 'setter':
      case 'unreadable':
      case 'Proxy':
        return v;
      case 'Array': {
        const items = Array.isArray(v.items) ? v.items.map((item) => asJsonDelivers(item, false) ?? null) : [];
        return { ...v, items };
      }
      default:
        // Map, Set, RegExp, WeakMap, Promise, …: JSON keeps their own enumerable properties, which the
        // capture does not show. Typed arrays and Errors are left as captured.
        return t === 'Map' || t === 'Set' || t === 'RegExp' || t === 'WeakMap' || t === 'WeakSet' || t === 'WeakRef' || t === 'Promise' ? {} : v;
    }
  }
  const out: { [k: string]: Json } = {};
  for (const k of Object.keys(v)) {
    if (k === '$class') continue;
    const d = asJsonDelivers(v[k]!, false);
    if (d !== undefined) out[k] = d;
  }
  return out;
}

/** FNV-1a over the text, ignoring class names (structured clone drops prototypes). */
export function fnv1a(json: string): string {
  const text = json.includes('"$class":') ? json.replace(/"\$class":"[^"]*",?/g, '') : json;
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}
