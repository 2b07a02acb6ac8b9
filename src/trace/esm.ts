// trace_module's fallback for ES modules: conditional breakpoints at the start of each exported function,
// whose condition hands the arguments to the agent and answers false, so the program never pauses. A hit
// costs ~0.1 ms (DESIGN.md: ~76,000× a cheap call), so these traces are rate-limited hard, record arguments
// only (no return values, errors or durations), and are removed as soon as their limits stop them.
import { pathToFileURL } from 'node:url';
import { ESM_MAX_RATE, type ModuleReport, type ModuleSpec } from '../agent/modules.js';
import { AGENT_GLOBAL } from '../shared/protocol.js';
import { findExportedFunctions, position } from './esm_source.js';
import type { ThreadLink } from './thread.js';


export class EsmTraces {
  private enabled = false;
  private readonly scripts = new Map<string, string>();
  private readonly breakpoints = new Map<string, string[]>();

  constructor(private readonly thread: ThreadLink) {}

  async trace(spec: ModuleSpec, report: ModuleReport): Promise<ModuleReport> {
    const session = this.thread.session;
    if (!this.enabled) {
      session.on('Debugger.scriptParsed', ({ url, scriptId }) => this.scripts.set(url, scriptId));
      // scriptParsed is sent for every script already loaded before enable answers.
      await session.send('Debugger.enable', {});
      this.enabled = true;
    }
    const scriptId = this.scripts.get(pathToFileURL(report.resolved!).href);
    if (!scriptId) {
      return { ...report, status: 'unsupported', note: 'an ES module not loaded yet in this thread: call trace_module again once it is (ES modules are traced by breakpoints on the loaded script)' };
    }
    const { scriptSource } = await session.send('Debugger.getScriptSource', { scriptId });
    const ids: string[] = [];
    const traced: string[] = [];
    for (const site of findExportedFunctions(scriptSource)) {
      const condition = `globalThis[Symbol.for(${JSON.stringify(AGENT_GLOBAL)})]?.esmHit(${JSON.stringify(spec.module)}, ${JSON.stringify(site.name)}, ${site.argsExpression}) ?? false`;
      try {
        const { breakpointId } = await session.send('Debugger.setBreakpoint', { location: { scriptId, ...position(scriptSource, site.bodyOffset) }, condition });
        ids.push(breakpointId);
        traced.push(site.name);
      } catch {
        // No breakable position there (an empty body): that function is left out of the report.
      }
    }
    this.breakpoints.set(spec.module, [...(this.breakpoints.get(spec.module) ?? []), ...ids]);
    return {
      ...report,
      status: 'traced',
      via: 'breakpoints',
      functions: traced.filter((n) => !/[#.]/.test(n)),
      methods: traced.filter((n) => /[#.]/.test(n)),
      note: `an ES module: traced by conditional breakpoints (arguments only: no return values, errors or durations; ~0.1 ms per call; at most ${Math.min(spec.maxPerSecond, ESM_MAX_RATE)} calls/s). Exports written other than as export function / const arrow / class are not found.`,
    };
  }

  /** Removes the breakpoints of one trace (its limits stopped it). */
  async stop(module: string): Promise<void> {
    const ids = this.breakpoints.get(module) ?? [];
    this.breakpoints.delete(module);
    for (const breakpointId of ids) await this.thread.session.send('Debugger.removeBreakpoint', { breakpointId }).catch(() => undefined);
  }

  async removeAll(): Promise<void> {
    for (const module of [...this.breakpoints.keys()]) await this.stop(module);
    if (this.enabled) await this.thread.session.send('Debugger.disable').catch(() => undefined);
    this.enabled = false;
  }
}
