// Everything the thread writes to stdout and stderr, recorded where it is written so that it keeps its exact
// place among the thread's other events and the request it belongs to (the inspector's consoleAPICalled
// arrives on another clock, out of order, and only sees console calls).
//
// Where the output is caught, so that each line is recorded once however it was written:
// - `write` of process.stdout/process.stderr (an own property on the instance): console methods and saved
//   references to them (a Console looks its stream's `write` up on every call), process.stdout.write, and
//   every logger that writes to the stream;
// - `fs.write`/`fs.writeSync` on file descriptors 1 and 2: loggers that bypass the stream (pino through
//   sonic-boom), recorded with the bytes the call reports written (a partial write is retried by the caller);
// - the console's methods and its internal `kWriteToConsole` only say which level a write has.
// The text is what the program printed, formatted by Node itself, less its terminal control sequences:
// nothing here runs util.format or an inspect hook of the app's. A worker thread's stdout is a stream into its
// parent thread, which writes it to the real stdout: the worker records its own output, and the parent skips
// what it forwards.
import type { EmitLinks, Source } from './index.js';

/** Longest text of one recorded line; longer ones are cut and end with "…". */
const MAX_TEXT = 4096;
/** A partial line (no newline yet) is kept up to this many characters, then recorded as it is. */
const MAX_PENDING = 64 * 1024;
const CONSOLE_LEVELS: Record<string, string> = { log: 'log', info: 'info', warn: 'warn', error: 'error', debug: 'debug', trace: 'trace', dir: 'log', table: 'log' };
/** pino's numeric levels. */
const PINO_LEVELS: Record<string, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** What begins a terminal control sequence: ESC, or the 8-bit CSI. */
const CONTROL = /[\u001b\u009b]/;

type Stream = 'stdout' | 'stderr';
type Fn = (...args: unknown[]) => unknown;
/** A partial line, the level of the write that began it, and a decoder for UTF-8 split between writes. */
type Pending = { text: string; level?: string; decoder?: { write(b: Uint8Array): string; end(): string } };

export const consoleSource: Source = {
  category: 'log',
  enable(core, patches) {
    const proc = core.builtin('process');
    const { Buffer } = core.builtin('buffer');
    const self = core.config.actor;
    const pending: Record<Stream, Pending> = { stdout: { text: '' }, stderr: { text: '' } };
    /** The console method being run (outermost), whose writes take its level. */
    let consoleLevel: string | undefined;
    /** Inside the console's own write (also reached through a console method saved before attach). */
    let consoleStream: Stream | undefined;
    /** Inside a patched stream write: the fs layer below it must not record the same bytes again. */
    let depth = 0;
    /** Delivering a worker thread's output to this thread's stream: the worker recorded it. */
    let forwarding = 0;

    /** A wrapper that marks the time `original` runs: `set` returns the undo, or nothing to pass through. */
    const around = (set: (this: unknown, args: unknown[]) => (() => void) | undefined) => (original: Fn) =>
      function (this: unknown, ...args: unknown[]) {
        let reset: (() => void) | undefined;
        if (patches.active) core.guard(() => (reset = set.call(this, args)));
        if (!reset) return original.apply(this, args);
        try {
          return original.apply(this, args);
        } finally {
          reset();
        }
      };

    /** The time and request of the lines being recorded, when not now and the current one (fs.write below). */
    let links: EmitLinks | undefined;
    // Terminal control sequences (colours, hyperlinks) are taken out here, with Node's own function, not when
    // answering: get_logs searches the stored text in SQL, where "ERROR" must match what the terminal showed.
    const { stripVTControlCharacters } = core.builtin('util');
    const record = (stream: Stream, level: string | undefined, line: string) => {
      let text = line.endsWith('\r') ? line.slice(0, -1) : line;
      if (CONTROL.test(text)) text = stripVTControlCharacters(text);
      if (text.length > MAX_TEXT) text = text.slice(0, MAX_TEXT) + '…';
      core.emit('log', level ?? jsonLevel(text) ?? stream, self, { text, stream }, links);
    };
    const flush = (stream: Stream) => {
      const p = pending[stream];
      const text = p.text + (p.decoder?.end() ?? '');
      const level = p.level;
      pending[stream] = { text: '' };
      if (text) record(stream, level, text);
    };
    /** A console call's whole output is one record (a stack stays together); other writes are recorded line
     * by line (sonic-boom writes many log lines at once). */
    const append = (stream: Stream, text: string) => {
      const p = pending[stream];
      const level = consoleLevel ?? (consoleStream === undefined ? undefined : consoleStream === 'stderr' ? 'error' : 'log');
      if (!p.text) p.level = level;
      const end = text.lastIndexOf('\n');
      if (end < 0) {
        p.text += text;
        if (p.text.length > MAX_PENDING) flush(stream);
        return;
      }
      const complete = p.text + text.slice(0, end);
      const first = p.level;
      p.text = text.slice(end + 1);
      p.level = level;
      if (first !== undefined) record(stream, first, complete);
      else for (const line of complete.split('\n')) record(stream, undefined, line);
    };
    const appendBytes = (stream: Stream, bytes: Uint8Array) => {
      const p = pending[stream];
      p.decoder ??= new (core.builtin('string_decoder').StringDecoder)('utf8');
      append(stream, p.decoder!.write(bytes));
    };

    // The console: which level its writes have.
    const console = core.builtin('console') as Record<string | symbol, Fn>;
    for (const method in CONSOLE_LEVELS) {
      if (typeof console[method] === 'function') {
        patches.patch(console, method, around(() => {
          if (consoleLevel !== undefined) return;
          consoleLevel = CONSOLE_LEVELS[method];
          return () => (consoleLevel = undefined);
        }) as never);
      }
    }
    // Node's global console writes through this bound own property (its first argument is kUseStdout or
    // kUseStderr): a reference to console.log saved before attach still passes here.
    const kWrite = Object.getOwnPropertySymbols(console).find((s) => s.description === 'kWriteToConsole');
    if (kWrite && typeof console[kWrite] === 'function') {
      patches.patch(console, kWrite, around((args) => {
        if (consoleStream !== undefined) return;
        consoleStream = String((args[0] as symbol).description).includes('err') ? 'stderr' : 'stdout';
        return () => (consoleStream = undefined);
      }) as never);
    }

    // A test file run by `node --test`: the runner's reports go to its stdout as serialized frames, not text;
    // only what the console prints there is the tests' output.
    const frames = proc.env?.NODE_TEST_CONTEXT === 'child-v8';
    // The streams: recorded after the write returned, unless it threw or a worker's output is passing.
    const patchStream = (name: Stream, stream: { write: Fn } | undefined) => {
      if (typeof stream?.write !== 'function') return;
      patches.patch(stream, 'write', (original) =>
        function (this: unknown, ...args: unknown[]) {
          if (!patches.active || this !== stream || depth > 0) return original.apply(this, args);
          depth++;
          let result: unknown;
          try {
            result = original.apply(this, args);
          } finally {
            depth--;
          }
          const [chunk, encoding] = args;
          if (!forwarding && !(frames && name === 'stdout' && consoleStream === undefined)) {
            core.guard(() => {
              if (typeof chunk === 'string' && (typeof encoding !== 'string' || /^utf-?8$/i.test(encoding))) append(name, chunk);
              else if (typeof chunk === 'string' || chunk instanceof Uint8Array) appendBytes(name, Buffer.from(chunk, encoding));
            });
          }
          return result;
        },
      );
    };
    // process.stdout is made on first use, by a getter: a worker whose bootstrap has not finished aborts if
    // it is touched (an assertion in createWorkerStdio), so such a worker — held before its first line, or
    // still starting when a reconnecting nodescope finds it (a target crashed so once) — patches it when the
    // program first asks for it. Other threads patch it now: their console may hold it already.
    for (const name of ['stdout', 'stderr'] as const) {
      core.guard(() => {
        const own = Object.getOwnPropertyDescriptor(proc, name);
        if (!own?.get) return patchStream(name, own?.value);
        let done = false;
        const get = function (this: unknown) {
          const stream = own.get!.call(this);
          if (!done && patches.active) {
            done = true;
            core.guard(() => patchStream(name, stream));
          }
          return stream;
        };
        Object.defineProperty(proc, name, { ...own, get });
        patches.add(() => Object.getOwnPropertyDescriptor(proc, name)?.get === get && Object.defineProperty(proc, name, own));
        if (core.bootstrapped()) get.call(proc);
      });
    }

    // File descriptors 1 and 2, with the bytes each call reports written (a partial write is retried by the
    // caller with the rest). fs.write(Sync)(fd, buffer, offset?, …) or (fd, buffer, {offset}) or
    // (fd, string, position?, encoding?).
    const fromFd = (args: unknown[], written: unknown) => {
      const stream: Stream | undefined = args[0] === 1 ? 'stdout' : args[0] === 2 ? 'stderr' : undefined;
      if (!stream || depth > 0 || typeof written !== 'number' || written <= 0) return;
      const [, data, arg2, arg3] = args;
      if (typeof data === 'string') {
        const encoding = typeof arg3 === 'string' ? arg3 : typeof arg2 === 'string' ? arg2 : 'utf8';
        if (/^utf-?8$/i.test(encoding) && written >= Buffer.byteLength(data)) append(stream, data);
        else appendBytes(stream, Buffer.from(data, encoding).subarray(0, written));
      } else if (ArrayBuffer.isView(data)) {
        // An options object is the app's: its own data property is read, never a getter.
        const offset = Number(typeof arg2 === 'object' && arg2 ? Object.getOwnPropertyDescriptor(arg2, 'offset')?.value ?? 0 : arg2 ?? 0) || 0;
        appendBytes(stream, Buffer.from(data.buffer, data.byteOffset + offset, Math.min(written, data.byteLength - offset)));
      }
    };
    const fs = core.builtin('fs') as Record<string, Fn>;
    patches.patch(fs, 'writeSync', (original) =>
      function (this: unknown, ...args: unknown[]) {
        const written = original.apply(this, args);
        if (patches.active) core.guard(() => fromFd(args, written));
        return written;
      },
    );
    // A logger that writes with fs.write (pino through sonic-boom) holds the lines logged while a write is
    // under way and writes them from that write's callback: in the async context of the request that wrote
    // first, whatever requests logged them. Such a write keeps that request only when no other request was
    // served meanwhile; else its lines are recorded with none (under load, nearly all of them went to a
    // few requests they did not belong to).
    let completing: { started: number; alone: boolean } | undefined;
    patches.patch(fs, 'write', (original) =>
      mimic(function (this: unknown, ...args: unknown[]) {
        const callback = args[args.length - 1];
        if (patches.active && (args[0] === 1 || args[0] === 2) && typeof callback === 'function') {
          const call = args.slice();
          const { started, open } = core.served;
          // Written from an earlier write's callback: what was logged since that write began, by its own
          // request if it was the only one being served then and none began since.
          const held = completing !== undefined && !(completing.alone && completing.started === started);
          const self = { started, alone: open <= 1 && !held };
          // Its lines are recorded when it completes, at the time it was called: under load the callback came
          // tens of ms later, after the response of the request that logged them.
          const at = core.nowNs();
          args[args.length - 1] = function (this: unknown, ...done: unknown[]) {
            if (patches.active && done[0] == null) {
              core.guard(() => {
                links = held ? { corr: null, ts: at } : { ts: at };
                try {
                  fromFd(call, done[1]);
                } finally {
                  links = undefined;
                }
              });
            }
            const outer = completing;
            completing = self;
            try {
              return callback.apply(this, done);
            } finally {
              completing = outer;
            }
          };
        }
        return original.apply(this, args);
      }, original),
    );
    // `import { writeSync } from 'node:fs'` reads the ES module's copy of the export: bring it up to date.
    const sync = () => core.guard(() => core.builtin('module').syncBuiltinESMExports());
    sync();
    patches.add(sync);

    // A worker's stdout and stderr arrive in this thread on streams of an internal class, each chunk emitted
    // to the pipe that writes it to our own stream. The class is reached through the first worker message.
    core.guard(() => {
      const proto = core.builtin('worker_threads').Worker.prototype as Record<string | symbol, Fn>;
      const kOnMessage = Object.getOwnPropertySymbols(proto).find((s) => s.description === 'kOnMessage');
      const stdio = Object.getOwnPropertyDescriptor(proto, 'stdout')?.get;
      if (!kOnMessage || !stdio) return;
      let seen = false;
      patches.patch(proto, kOnMessage, around(function (this: unknown) {
        if (!seen) {
          seen = true;
          const readable = Object.getPrototypeOf(stdio.call(this));
          patches.patch(readable, 'emit', around((args) => (args[0] === 'data' ? (forwarding++, () => forwarding--) : undefined)));
        }
        return undefined;
      }) as never);
    });

    // Before the lifecycle's exit listener, so that a last line without a newline precedes the exit event.
    const onExit = () => core.guard(() => (flush('stdout'), flush('stderr')));
    proc.prependListener('exit', onExit);
    patches.add(() => (proc.removeListener('exit', onExit), onExit()));
  },
};

/** The level of a JSON log line (pino, bunyan, winston's json format): `"level":30` or `"level":"warn"`. */
function jsonLevel(text: string): string | undefined {
  const m = text[0] === '{' ? /"level":\s*(?:(\d+)|"(trace|debug|info|warn|error|fatal)")/i.exec(text.slice(0, 512)) : null;
  return m ? (m[2]?.toLowerCase() ?? PINO_LEVELS[m[1]!]) : undefined;
}

/** util.promisify(fs.write) resolves to {bytesWritten, buffer} through a symbol on fs.write: kept. */
function mimic(wrapper: Fn, original: Fn): Fn {
  for (const s of Object.getOwnPropertySymbols(original)) Object.defineProperty(wrapper, s, Object.getOwnPropertyDescriptor(original, s)!);
  return wrapper;
}
