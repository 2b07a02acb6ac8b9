// Tracked objects, the GenServer analogue: a stateful instance found by registered name or by path, given
// an actor id, whose method calls are recorded with a bounded snapshot of its state after each one (sync
// return or promise settlement), so every state has a trigger. Methods are wrapped where they live (the
// class prototype, or the object itself for own methods); untracked instances pass straight through.
import { Calls } from './calls.js';
import type { AgentCore } from './index.js';
import { recordMessage } from './messages.js';
import type { PatchTable } from './patches.js';

export const REGISTRY = 'nodescope.registry';

export interface TrackResult {
  id: string;
  name: string;
  class: string;
  path: string;
  methods: string[];
  existing: boolean;
}

type Obj = Record<PropertyKey, unknown>;

export class Objects {
  private readonly ids = new WeakMap<object, string>();
  /** Tracked objects by id, held weakly: untracking one must find it without keeping it alive. */
  private readonly byId = new Map<string, WeakRef<object>>();
  private readonly wrapped = new WeakSet<object>();
  private seq = 0;

  constructor(
    private readonly core: AgentCore,
    private readonly patches: PatchTable,
    private readonly calls: Calls,
  ) {}

  /** Finds `ref` (a registered name, `globalThis.a.b`, `a.b`, or `./file.js#a.b`) and tracks it. */
  track(ref: string, name?: string): TrackResult | undefined {
    return this.trackValue(this.resolve(ref), name ?? ref, ref);
  }

  /** Tracks live instances found by the tracer (Runtime.queryObjects), at most `max` of them. */
  trackAll(instances: unknown[], cls: string, max: number): TrackResult[] {
    const out: TrackResult[] = [];
    for (const obj of instances.slice(0, max)) {
      const r = this.trackValue(obj, `${cls} instance`, `(instance of ${cls})`);
      if (r) out.push(r);
    }
    return out;
  }

  /**
   * A class by name, for queryObjects: a global, an export of a loaded CommonJS module, or — for a class
   * local to a module — the class of a value one step from those roots (a global or exported instance).
   */
  classPrototype(name: string): object | undefined {
    const { isProxy } = this.core;
    const named = (v: unknown): v is { prototype: object } => typeof v === 'function' && !isProxy(v) && Object.getOwnPropertyDescriptor(v, 'name')?.value === name;
    const cache = (this.core.builtin('module')._cache ?? {}) as Record<string, { exports?: unknown }>;
    const roots: unknown[] = [globalThis, ...Object.values(cache).map((r) => r?.exports)];
    for (const root of roots) {
      if (named(root)) return root.prototype;
      if (root === null || (typeof root !== 'object' && typeof root !== 'function') || isProxy(root)) continue;
      for (const key of Object.keys(root)) {
        const value = Object.getOwnPropertyDescriptor(root, key)?.value;
        if (named(value)) return value.prototype;
        if (value === null || typeof value !== 'object' || isProxy(value)) continue;
        for (let proto = Object.getPrototypeOf(value); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
          if (isProxy(proto)) break;
          if (named(Object.getOwnPropertyDescriptor(proto, 'constructor')?.value)) return proto;
        }
      }
    }
    return undefined;
  }

  private trackValue(found: unknown, name: string, path: string): TrackResult | undefined {
    if (!found || (typeof found !== 'object' && typeof found !== 'function') || this.core.isProxy(found)) return undefined;
    const obj = found as Obj;
    const cls = className(obj);
    let id = this.ids.get(obj);
    const existing = id !== undefined;
    if (id === undefined) {
      id = `${this.core.config.actor}/o${++this.seq}`;
      this.ids.set(obj, id);
      this.byId.set(id, new WeakRef(obj));
      this.core.emit('object', 'track', id, { name, class: cls, path }, { from: this.core.config.actor });
      this.snapshot(obj, id, null, '(tracked)', []);
    }
    return { id, name, class: cls, path, methods: this.wrapMethods(obj, cls), existing };
  }

  /** Stops following an object: its calls pass straight through from now on (the class's wrappers stay, as
   * pass-throughs, while other instances may be tracked). */
  untrack(id: string): boolean {
    const obj = this.byId.get(id)?.deref();
    this.byId.delete(id);
    if (obj === undefined || this.ids.get(obj) !== id) return false;
    this.ids.delete(obj);
    this.core.emit('object', 'untrack', id, {}, { from: this.core.config.actor });
    return true;
  }

  private resolve(ref: string): unknown {
    const registry = (globalThis as Record<symbol, unknown>)[Symbol.for(REGISTRY)];
    if (registry instanceof Map && registry.has(ref)) {
      const entry = registry.get(ref);
      return entry instanceof WeakRef ? entry.deref() : entry;
    }
    const hash = ref.indexOf('#');
    if (hash > 0) {
      const file = ref.slice(0, hash);
      const mod = this.requireCache(file);
      return mod === undefined ? undefined : readPath(mod, ref.slice(hash + 1), this.core.isProxy);
    }
    return readPath(globalThis, ref.replace(/^globalThis\./, ''), this.core.isProxy);
  }

  private requireCache(file: string): unknown {
    const Module = this.core.builtin('module');
    const path = this.core.builtin('path');
    const proc = this.core.builtin('process');
    try {
      const resolved = Module.createRequire(path.join(proc.cwd(), 'index.js')).resolve(file);
      return Module._cache?.[resolved]?.exports;
    } catch {
      return undefined;
    }
  }

  private wrapMethods(obj: Obj, cls: string): string[] {
    const methods: string[] = [];
    const seen = new Set<PropertyKey>();
    const EventEmitter = this.core.builtin('events');
    for (let holder: object | null = obj; holder && holder !== Object.prototype && holder !== Function.prototype; holder = Object.getPrototypeOf(holder)) {
      if (this.core.isProxy(holder)) break;
      const isEmitter = holder === EventEmitter.prototype;
      for (const key of Object.getOwnPropertyNames(holder)) {
        if (key === 'constructor' || seen.has(key)) continue;
        seen.add(key);
        const desc = Object.getOwnPropertyDescriptor(holder, key);
        if (!desc || typeof desc.value !== 'function' || !desc.configurable) continue;
        if (isEmitter && key !== 'emit') continue;
        methods.push(key);
        if (this.wrapped.has(holder) && holder !== obj) continue;
        if (isEmitter) this.wrapEmit(holder as Obj);
        else this.wrapMethod(holder as Obj, key, `${cls}#${key}`);
      }
      if (holder !== obj) this.wrapped.add(holder);
      if (isEmitter) break;
    }
    return methods;
  }

  private wrapMethod(holder: Obj, key: string, fn: string): void {
    this.patches.patch(holder, key, (original) =>
      this.calls.wrap(original as (...a: unknown[]) => unknown, {
        module: fn.split('#')[0]!,
        fn,
        actorOf: (thisArg) => (typeof thisArg === 'object' && thisArg !== null ? this.ids.get(thisArg) : undefined),
        active: () => this.patches.active,
        after: (thisArg, callId, args) => this.snapshot(thisArg as Obj, this.ids.get(thisArg as object)!, callId, key, args),
      }) as never,
    );
  }

  /** `emit` on a tracked EventEmitter is a message from the object to its listeners. */
  private wrapEmit(proto: Obj): void {
    const { core, ids, patches } = this;
    patches.patch(proto, 'emit', (original) =>
      function (this: object, event: unknown, ...args: unknown[]) {
        const id = patches.active && typeof this === 'object' && this !== null ? ids.get(this) : undefined;
        if (id !== undefined) core.guard(() => recordMessage(core, 'send', id, `${id}:listeners`, 'emit', { event: String(event), args }));
        return (original as (...a: unknown[]) => unknown).apply(this, [event, ...args]);
      } as never,
    );
  }

  private snapshot(obj: Obj, id: string, callId: string | null, method: string, args: unknown[]): void {
    this.core.guard(() =>
      this.core.emit('state', 'snapshot', id, { state: this.core.capture(obj), trigger: { method, args: this.core.capture(args) } }, { ref: callId }),
    );
  }
}

/** Follows a dotted path through own data properties only: no getter of the target ever runs. */
function readPath(root: unknown, path: string, isProxy: (v: unknown) => boolean): unknown {
  let value = root;
  for (const key of path.split('.').filter(Boolean)) {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function') || isProxy(value)) return undefined;
    const desc = Object.getOwnPropertyDescriptor(value, key);
    if (!desc || !('value' in desc)) return undefined;
    value = desc.value;
  }
  return value;
}

function className(obj: object): string {
  if (typeof obj === 'function') return (Object.getOwnPropertyDescriptor(obj, 'name')?.value as string) || 'Function';
  const proto = Object.getPrototypeOf(obj);
  const ctor = proto ? Object.getOwnPropertyDescriptor(proto, 'constructor')?.value : undefined;
  const name = typeof ctor === 'function' ? Object.getOwnPropertyDescriptor(ctor, 'name')?.value : undefined;
  return typeof name === 'string' && name ? name : 'Object';
}
