// The scripts one thread has loaded, as the Debugger domain of its inspector session reports them: one list
// per thread, shared by module traces (esm.ts) and probes (probes.ts). V8 reports the scripts already loaded
// only to a session's first Debugger.enable; when each enabled the domain on its own, whichever came second
// never learned them (a probe set after a module trace waited for its script for ever).
import type { CdpSession } from './cdp.js';

export interface LoadedScript {
  scriptId: string;
  /** file:// for ES modules, a plain path for CommonJS. */
  url: string;
  isModule: boolean;
  length: number;
  sourceMapURL: string;
  /** The execution context it runs in: a vm context's own (jest's test files), or the thread's main one. */
  contextId: number;
}

type Listener = (script: LoadedScript) => void;

export class LoadedScripts {
  private session: CdpSession | undefined;
  private enabled: Promise<void> | undefined;
  private off: (() => void) | undefined;
  private readonly byUrl = new Map<string, LoadedScript>();
  /** Subscriptions of the current session (a new session starts with none). */
  private readonly listeners = new Set<Listener>();

  constructor(private readonly thread: { readonly session: CdpSession }) {}

  /**
   * Enables the Debugger domain on the thread's session, once per session, and answers when the scripts
   * loaded before are known. A new session (after a reconnect) starts over: its own list, no subscriptions.
   */
  enable(): Promise<void> {
    const session = this.thread.session;
    if (this.session === session && this.enabled) return this.enabled;
    this.off?.();
    this.byUrl.clear();
    this.listeners.clear();
    this.session = session;
    this.off = session.on('Debugger.scriptParsed', ({ url, scriptId, isModule, length, sourceMapURL, executionContextId }) => {
      if (!url) return;
      const script: LoadedScript = { scriptId, url, isModule: isModule === true, length: length ?? Infinity, sourceMapURL: sourceMapURL ?? '', contextId: executionContextId };
      this.byUrl.set(url, script);
      for (const fn of this.listeners) fn(script);
    });
    // scriptParsed is sent for every script already loaded before enable answers.
    this.enabled = session.send('Debugger.enable', {}).then(() => undefined);
    return this.enabled;
  }

  get(url: string): LoadedScript | undefined {
    return this.byUrl.get(url);
  }

  all(): LoadedScript[] {
    return [...this.byUrl.values()];
  }

  /** Calls `fn` for each script known now, then for each one parsed later on this session. */
  subscribe(fn: Listener): () => void {
    for (const script of this.byUrl.values()) fn(script);
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The domain is off (the thread's traces and probes are gone): the next enable starts over. */
  forget(): void {
    this.off?.();
    this.off = undefined;
    this.byUrl.clear();
    this.listeners.clear();
    this.session = undefined;
    this.enabled = undefined;
  }
}
