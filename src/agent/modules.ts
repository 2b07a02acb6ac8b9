// trace_module inside a thread: wraps the exported functions of a CommonJS module and the methods of its
// exported classes, now if the module is loaded, else when it is first required (Module._load is watched
// while any trace waits). ES module namespaces are immutable, so their exports cannot be wrapped: the
// report says so instead of pretending.
import { Calls, Limiter, type TraceLimits } from './calls.js';
import type { AgentCore } from './index.js';
import type { PatchTable } from './patches.js';

/** Calls per second a breakpoint trace may take: 500 hits ≈ 50 ms of CPU each second at most (~0.1 ms a hit). */
export const ESM_MAX_RATE = 500;

export interface ModuleSpec extends TraceLimits {
  module: string;
}

export interface ModuleReport {
  module: string;
  resolved: string | null;
  /** `esm`: an ES module, which the tracer traces by breakpoints instead (src/trace/esm.ts). */
  status: 'traced' | 'pending' | 'unsupported' | 'not_found' | 'esm';
  via?: 'wrappers' | 'breakpoints';
  functions: string[];
  methods: string[];
  note?: string;
}

type Fn = (...args: unknown[]) => unknown;
type Obj = Record<string, unknown>;
type ModuleRecord = { exports: unknown; loaded?: boolean };

export class Modules {
  private readonly pending = new Map<string, { spec: ModuleSpec; limiter: Limiter }>();
  private readonly traced = new Map<string, ModuleReport>();
  /** Limits of ES-module traces, which run through breakpoints that call esmHit. */
  private readonly esm = new Map<string, Limiter>();
  /** Traces asked for before this thread could resolve paths (a worker paused before its bootstrap). */
  private unresolved: ModuleSpec[] = [];
  private booted: boolean;
  private watching = false;

  constructor(
    private readonly core: AgentCore,
    private readonly patches: PatchTable,
    private readonly calls: Calls,
  ) {
    this.booted = core.isMainThread || !core.config.fromStart;
  }

  trace(spec: ModuleSpec): ModuleReport {
    const resolved = this.resolve(spec.module);
    const base = { module: spec.module, resolved, functions: [], methods: [] };
    if (resolved === null && !this.booted) {
      this.unresolved.push(spec);
      this.watchLoads();
      return { ...base, status: 'pending', note: 'this thread is starting: resolved at its first require' };
    }
    if (resolved === null) return { ...base, status: 'not_found', note: `cannot resolve "${spec.module}" from ${this.core.builtin('process').cwd()}` };
    const known = this.traced.get(resolved);
    if (known) return known;
    if (/\.mjs$/.test(resolved) || this.isEsm(resolved)) {
      // Exports of an ES module are immutable bindings: no wrapper can replace them. The tracer sets
      // breakpoints instead, whose condition calls esmHit, held to a hard rate.
      this.esm.set(spec.module, new Limiter(this.core, spec.module, { ...spec, maxPerSecond: Math.min(spec.maxPerSecond, ESM_MAX_RATE) }));
      return { ...base, status: 'esm', note: 'an ES module: its exports are immutable bindings, so its functions cannot be wrapped' };
    }
    const limiter = new Limiter(this.core, spec.module, spec);
    const record = this.cache()[resolved] as ModuleRecord | undefined;
    if (record?.loaded) return this.wrapModule(spec, resolved, record, limiter);
    this.pending.set(resolved, { spec, limiter });
    this.watchLoads();
    return { ...base, status: 'pending', note: 'not loaded yet in this thread: traced when first required' };
  }

  reports(): ModuleReport[] {
    return [...this.traced.values()];
  }

  /** A breakpoint at the start of an ES module's function was reached: record the call, never pause. */
  esmHit(module: string, fn: string, args: ArrayLike<unknown>): false {
    const limiter = this.esm.get(module);
    if (!limiter || !this.patches.active || !limiter.allow()) return false;
    const self = this.core.config.actor;
    this.core.emit('call', 'call', self, { module, fn, args: this.core.capture(Array.from(args)), parent: null, via: 'breakpoint' });
    return false;
  }

  private cache(): Record<string, unknown> {
    return this.core.builtin('module')._cache ?? {};
  }

  private resolve(spec: string): string | null {
    const Module = this.core.builtin('module');
    const path = this.core.builtin('path');
    const proc = this.core.builtin('process');
    try {
      const target = spec.startsWith('file:') ? this.core.builtin('url').fileURLToPath(spec) : spec;
      return Module.createRequire(path.join(proc.cwd(), 'index.js')).resolve(target);
    } catch {
      return null;
    }
  }

  /** A .js file under the nearest package.json that says "type": "module". */
  private isEsm(file: string): boolean {
    if (!file.endsWith('.js')) return false;
    const fs = this.core.builtin('fs');
    const path = this.core.builtin('path');
    for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
      try {
        return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).type === 'module';
      } catch {
        if (path.dirname(dir) === dir) return false;
      }
    }
  }

  private watchLoads(): void {
    if (this.watching) return;
    this.watching = true;
    const Module = this.core.builtin('module');
    const modules = this;
    this.patches.patch(Module as { _load: Fn }, '_load', (original) =>
      function (this: unknown, ...args: unknown[]) {
        const result = original.apply(this, args);
        if (modules.patches.active) {
          modules.booted = true;
          if (modules.unresolved.length > 0) for (const spec of modules.unresolved.splice(0)) modules.core.guard(() => void modules.trace(spec));
          if (modules.pending.size > 0) modules.core.guard(() => modules.loadPending());
        }
        return result;
      },
    );
  }

  private loadPending(): void {
    const cache = this.cache();
    for (const [resolved, { spec, limiter }] of this.pending) {
      const record = cache[resolved] as ModuleRecord | undefined;
      if (!record?.loaded) continue;
      this.pending.delete(resolved);
      this.wrapModule(spec, resolved, record, limiter);
    }
  }

  private wrapModule(spec: ModuleSpec, resolved: string, record: ModuleRecord, limiter: Limiter): ModuleReport {
    const report: ModuleReport = { module: spec.module, resolved, status: 'traced', via: 'wrappers', functions: [], methods: [] };
    const self = this.core.config.actor;
    const site = (fn: string) => ({ module: spec.module, fn, actorOf: () => self, active: () => this.patches.active && limiter.allow() });
    const exp = record.exports;
    if (typeof exp === 'function') {
      if (isClass(exp)) this.wrapClass(exp as Fn & Obj, exp.name || 'default', report, site);
      else {
        this.patches.patch(record, 'exports', (original) => this.calls.wrap(original as Fn, site(exp.name || 'default')));
        report.functions.push(exp.name || 'default');
      }
    } else if (exp && typeof exp === 'object' && !this.core.isProxy(exp)) {
      for (const key of Object.keys(exp)) {
        const desc = Object.getOwnPropertyDescriptor(exp, key);
        if (!desc || typeof desc.value !== 'function') continue;
        if (isClass(desc.value)) this.wrapClass(desc.value, key, report, site);
        else if (desc.writable || desc.configurable) {
          this.patches.patch(exp as Obj, key, (original) => this.calls.wrap(original as Fn, site(key)));
          report.functions.push(key);
        }
      }
    }
    this.traced.set(resolved, report);
    this.core.emit('agent', 'trace_started', self, { ...report });
    return report;
  }

  private wrapClass(cls: Fn & Obj, name: string, report: ModuleReport, site: (fn: string) => Parameters<Calls['wrap']>[1]): void {
    const proto = cls.prototype as Obj | undefined;
    if (proto && typeof proto === 'object') {
      for (const key of Object.getOwnPropertyNames(proto)) {
        const desc = Object.getOwnPropertyDescriptor(proto, key);
        if (key === 'constructor' || !desc || typeof desc.value !== 'function' || !desc.configurable) continue;
        this.patches.patch(proto, key, (original) => this.calls.wrap(original as Fn, site(`${name}#${key}`)));
        report.methods.push(`${name}#${key}`);
      }
    }
    for (const key of Object.getOwnPropertyNames(cls)) {
      const desc = Object.getOwnPropertyDescriptor(cls, key);
      if (['length', 'name', 'prototype'].includes(key) || !desc || typeof desc.value !== 'function' || !desc.configurable) continue;
      this.patches.patch(cls, key, (original) => this.calls.wrap(original as Fn, site(`${name}.${key}`)));
      report.methods.push(`${name}.${key}`);
    }
  }
}

function isClass(fn: unknown): boolean {
  try {
    return typeof fn === 'function' && Function.prototype.toString.call(fn).startsWith('class');
  } catch {
    return false;
  }
}
