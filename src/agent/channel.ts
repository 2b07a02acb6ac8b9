// The agent's outbound path: a bounded queue, sealed into batches and pushed through the inspector binding.
// The binding has no backpressure (DESIGN.md), so the agent keeps at most `maxInFlight` batches that the
// tracer has not acknowledged; past that, events wait in the queue, and past `maxQueue` they are counted and
// dropped. Unacknowledged batches are kept so that after a reconnect the tracer can ask for them again.
//
// The data channel: when the tracer hands over a Unix socket (config.data), batches go through it instead of
// the binding — one write of the batch text, no CDP framing of it in the target (the binding escapes the whole
// batch into a JSON string on the target's main thread, and the host parses it twice). Acks come back on the
// socket. The binding stays the fallback: before the socket is up, while it is down, and on the way out
// (a socket write at exit may sit in a user-space buffer that dies with the process; the binding's is flushed
// before the inspector lets the process go). Sequence numbers make the two paths one stream: the tracer keeps
// what follows its last batch, drops what it has, and asks for a resend on a gap.
import { ANSWER_MARK, appendEvent, DEFAULT_MAX_IN_FLIGHT_BYTES, DEFAULT_MAX_QUEUE_BYTES, encodeBatchOf, encodeEvent, type AgentConfig, type WireEvent } from '../shared/protocol.js';
import { TextBytes, type BytesClass } from './serialize.js';

/** Room kept beyond maxQueue for critical events, so a flood of calls cannot crowd out a crash report. */
const CRITICAL_RESERVE = 1000;
/**
 * At a handover (`handover`), batches in flight may reach this many times `maxInFlight`: the thread may be
 * ended from outside right after, and what waits in the queue dies with it (a worker whose sync burst of
 * 6,000 events filled the window lost the send of its last message, every time). Bounded, so a thread
 * posting in a loop while the host is behind does not send a batch per message without end.
 */
const HANDOVER_WINDOW_FACTOR = 4;

export interface Clock {
  nowNs(): number;
}

/** The part of `node:net` the channel uses (the agent imports nothing; the builtin is handed in). */
export interface NetLike {
  connect(path: string): DataSocket;
}
export interface DataSocket {
  write(text: string): boolean;
  unref(): void;
  end(): void;
  destroy(): void;
  setEncoding(enc: string): void;
  on(event: string, fn: (arg?: any) => void): void;
  writableLength: number;
}

/** Host-side hooks: the data socket closed while the host process is gone (SIGKILL of nodescope). */
export interface ChannelHooks {
  net?: NetLike;
  /** Whether the host process still lives (`process.kill(pid, 0)`). */
  hostAlive?: () => boolean;
  /** Called once when the data socket closed and the host is gone: the agent's cleanup path (hostGone). */
  onHostGone?: () => void;
  /**
   * Runs the data socket's callbacks as the agent's own code (AgentCore.guard): a host call landing in
   * them waits until they return, and nothing they throw reaches the target.
   */
  run?: (fn: () => void) => void;
  /** Node's Buffer, for the text of the batch being filled (the global one when not given). */
  bytes?: BytesClass;
  /**
   * The host asks for a flush (`F<id>` on the control socket; id 0: no answer), answered on the data socket as
   * a host call's answer: run from the thread's own event loop, never as an interrupt of its JavaScript (see
   * openControl).
   */
  flushRequested?: (id: number) => void;
}

/** A host request on the control socket: `F<id>` flush, answered with that id; `A<seq>` an ack. */
const CONTROL_LINE = /^([AF])(\d+)$/;

/** A socket's `data` listener that hands on its complete lines; a partial line waits for the rest. */
function byLine(fn: (lines: string[]) => void): (chunk: string) => void {
  let buffer = '';
  return (chunk) => {
    buffer += chunk;
    const nl = buffer.lastIndexOf('\n');
    if (nl < 0) return;
    const lines = buffer.slice(0, nl).split('\n');
    buffer = buffer.slice(nl + 1);
    fn(lines);
  };
}

/** Wait between attempts to (re)connect the data socket. */
const RECONNECT_MS = 200;

export class Channel {
  /**
   * Events encoded as they are pushed, written at once into the bytes of the batch they will go in (UTF-8:
   * the byte caps count what goes on the wire): nothing is kept per event, and sealing a batch makes its one
   * string. `bodies` are full batches waiting for the in-flight window, `body` the one being filled.
   */
  private bodies: { text: string; events: number; bytes: number }[] = [];
  private readonly body: TextBytes;
  private bodyEvents = 0;
  private queued = 0;
  private queueBytes = 0;
  /**
   * Where the event being written starts, or -1. The agent holds host calls back while an event is written
   * (Agent.host); should a flush or an event come in the middle of one all the same, the batch is not sealed
   * (it would take half an event) and the event waits in `held` until this one is done.
   */
  private writing = -1;
  private held: string[] = [];
  private inFlight: { seq: number; text: string }[] = [];
  /** The last batch in flight also handed to the binding at a handover, its socket write not yet out of the process. */
  private handedOver = 0;
  private inFlightBytes = 0;
  private seq = 0;
  private dropped = 0;
  private timer: { unref?(): void } | undefined;
  /** Set once the thread is exiting: every event is flushed at once, since no timer will fire again. */
  private exiting = false;

  constructor(
    private config: AgentConfig,
    private clock: Clock,
    private binding: (text: string) => void,
    private setTimer: (fn: () => void, ms: number) => { unref?(): void },
    private clearTimer: (t: unknown) => void,
    private hooks: ChannelHooks = {},
  ) {
    this.body = new TextBytes(hooks.bytes ?? (globalThis as unknown as { Buffer: BytesClass }).Buffer);
  }

  private socket: DataSocket | undefined;
  /** True once the host accepted our hello (its first ack line, `0` or more). */
  private socketUp = false;
  private lastConnect = -Infinity;
  /** Connections in a row that closed before the host accepted them: the retry interval doubles with each. */
  private failures = 0;
  private reconnectTimer: unknown;
  private closed = false;
  /**
   * The data socket closed under us (not by dropSocket) while the host still looked alive. It may be dying,
   * its inspector connection gone as well, and Node 20's inspector crashes the target writing a binding call
   * to a connection that saw its end (SIGSEGV in TcpHolder::WriteRaw on the inspector's I/O thread, seen
   * about once in 40 SIGKILLs of a host under load): batches wait in flight until the socket is back or the
   * host calls (resume), and are sent again then.
   */
  private socketLost = false;
  /** The host's requests, on a connection of their own (see openControl). */
  private control: DataSocket | undefined;
  /** Set by dropSocket: that close is ours, and the binding carries on. */
  private dropping = false;
  /** Batches sent through the data socket / the binding: for stats and tests. */
  private viaSocket = 0;
  private viaBinding = 0;

  private retryMs(): number {
    return Math.min(RECONNECT_MS * 2 ** this.failures, 5_000);
  }

  private reconnectLater(): void {
    if (this.reconnectTimer !== undefined || this.closed || this.exiting) return;
    try {
      const t = this.setTimer(() => {
        this.reconnectTimer = undefined;
        this.connect();
      }, this.retryMs() + 1);
      t.unref?.();
      this.reconnectTimer = t;
    } catch {
      // no timers (a worker before its bootstrap): the next send tries again
    }
  }

  /** Opens the data socket if the tracer offered one and none is open (at most every RECONNECT_MS). */
  private connect(): void {
    const data = this.config.data;
    const net = this.hooks.net;
    if (!data || !net || this.socket || this.closed || this.exiting) return;
    const now = this.clock.nowNs() / 1e6;
    if (now - this.lastConnect < this.retryMs()) return;
    this.lastConnect = now;
    let sock: DataSocket;
    try {
      sock = net.connect(data.path);
      // Never keep the target alive for our sake.
      sock.unref();
    } catch {
      return; // a worker before its bootstrap: the binding carries on, we try again later
    }
    this.socket = sock;
    sock.setEncoding('utf8');
    // Node's stream code is under a callback as it is over a write (see inStream).
    const inStream = (fn: (arg?: any) => void) => (arg?: any) => {
      this.inStream++;
      try {
        fn(arg);
      } finally {
        this.inStream--;
      }
    };
    const on = (event: string, fn: (arg?: any) => void) => sock.on(event, inStream(this.hooks.run ? (arg) => this.hooks.run!(() => fn(arg)) : fn));
    on('connect', () => {
      try {
        sock.write(`${data.secret} ${this.config.actor}\n`);
      } catch {
        // 'close' follows
      }
    });
    let up = false;
    on('data', byLine((lines) => {
      let seq = -1;
      for (const l of lines) {
        const n = Number(l);
        if (Number.isInteger(n) && n > seq) seq = n;
      }
      if (seq < 0) return;
      if (!this.socketUp) {
        // The host knows us: resend what it has not acknowledged through the faster path (it drops what it has).
        this.socketUp = true;
        this.socketLost = false;
        up = true;
        this.ack(seq);
        for (const b of this.inFlight) this.send(b.text);
        this.flush();
        this.openControl();
      } else this.ack(seq);
    }));
    sock.on('error', () => undefined);
    on('close', () => {
      if (this.socket === sock) {
        this.socket = undefined;
        this.socketUp = false;
      }
      if (this.closed) return;
      if (this.hooks.hostAlive && !this.hooks.hostAlive()) {
        this.closed = true;
        try {
          this.hooks.onHostGone?.();
        } catch {
          // never into user code
        }
        return;
      }
      // Dropped while the host lives: batches wait for the socket, or go through the binding when the drop
      // was ours (see socketLost); unacked ones are resent on the next hello (or by the tracer's gap check,
      // when a later batch arrives first).
      if (!up) this.failures++;
      else {
        this.failures = 0;
        this.socketLost = !this.dropping;
      }
      this.dropping = false;
      this.reconnectLater();
    });
  }

  /**
   * A second connection, on which the host asks for flushes and acks a worker's batches. Asked through the inspector instead, a flush is
   * an interrupt of whatever JavaScript the thread runs, and a termination meant for that code (a vm script's
   * timeout) that lands in it ends the flush and not the script: handed on, it hung a worker's vm rounds or
   * lost a batch in 1-4 of 6 runs (test/capture/terminations_worker.test.ts). Read here, the request waits for
   * the thread's event loop. Its own connection: the host never writes to a worker's data socket (a write
   * after the worker ended fails and takes the batches still unread in that socket with it; ThreadLink.ack).
   */
  private openControl(): void {
    const data = this.config.data;
    const net = this.hooks.net;
    const flushRequested = this.hooks.flushRequested;
    if (!data || !net || !flushRequested || this.control || this.closed || this.exiting) return;
    let sock: DataSocket;
    try {
      sock = net.connect(data.path);
      sock.unref();
    } catch {
      return; // asked through the inspector, as before
    }
    this.control = sock;
    sock.setEncoding('utf8');
    const run = this.hooks.run ?? ((fn: () => void) => fn());
    sock.on('connect', () =>
      run(() => {
        try {
          sock.write(`${data.secret} ${this.config.actor} control\n`);
        } catch {
          // 'close' follows
        }
      }),
    );
    sock.on(
      'data',
      byLine((lines) =>
        run(() => {
          for (const line of lines) {
            const request = CONTROL_LINE.exec(line);
            if (request?.[1] === 'A') this.ack(Number(request[2]));
            else if (request) flushRequested(Number(request[2]));
          }
        }),
      ),
    );
    sock.on('error', () => undefined);
    // Opened again with the data socket's next hello.
    sock.on('close', () => {
      if (this.control === sock) this.control = undefined;
    });
  }

  push(event: WireEvent, critical: boolean): void {
    if (!this.room(critical)) return;
    let text: string;
    try {
      text = encodeEvent(event);
    } catch {
      this.dropped++;
      // Its count goes in a batch of its own if nothing else comes.
      if (this.timer === undefined) this.schedule();
      return;
    }
    this.queue(text);
  }

  /**
   * Whether the queue takes one more event (by count and by bytes; critical events have a reserve beyond
   * both). If not, the event is counted as dropped: asked before an event is encoded, so a flood's dropped
   * events cost no encoding.
   */
  room(critical: boolean): boolean {
    // Closed (uninstalled): an async call settling later, or a hook that was running when the host's uninstall
    // ran (Agent.host), has nowhere to send its event (the binding may belong to a session that is gone).
    if (this.closed) return false;
    const limit = this.config.maxQueue + (critical ? CRITICAL_RESERVE : 0);
    const bytes = (this.config.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES) + (critical ? CRITICAL_RESERVE * 1024 : 0);
    if (this.queued < limit && this.queueBytes < bytes) return true;
    this.dropped++;
    return false;
  }

  /** An event its source encoded itself, as encodeEvent would have (a hot path's own encoder), after `room` said yes. */
  pushEncoded(text: string): void {
    this.queue(text);
  }

  private queue(text: string): void {
    if (this.writing >= 0) {
      this.held.push(text);
      return;
    }
    this.begin().text(text);
    this.commit();
  }

  /**
   * An event written in place by its source (after `room` said yes), as encodeEvent would have: `commit` when
   * it is complete, `abandon` if it could not be. Nothing between the two may emit.
   */
  begin(): TextBytes {
    // Still writing one: a termination cut it (nothing else begins inside an event). It is dropped, and what
    // waited behind it goes first (an event's site record among them).
    if (this.writing >= 0) this.abandon();
    this.writing = this.body.pos;
    this.body.byte(1); // SEP
    return this.body;
  }

  commit(): void {
    if (this.writing < 0) {
      this.body.pos = 0; // discarded meanwhile
      return;
    }
    this.queued++;
    this.queueBytes += this.body.pos - this.writing;
    this.writing = -1;
    if (++this.bodyEvents >= this.config.batchSize) this.seal();
    if (this.held.length > 0) this.release();
    else if (this.exiting || this.bodies.length > 0) this.flush();
    else if (this.timer === undefined) this.schedule();
  }

  abandon(): void {
    if (this.writing >= 0) this.body.pos = this.writing;
    this.writing = -1;
    this.release();
  }

  /**
   * After a termination cut agent code (src/agent/index.ts, atCheckpoint): no flush and no event are under
   * way. A send it cut may not have gone out: what is in flight goes again (the tracer keeps one copy).
   * Cut inside the data socket's write, Node's stream was left mid-write (`writing` set, its callback never
   * to come), and every later write waited behind it in the process for good: the batches of a traced
   * program's last 6 to 16 calls never reached the tracer (losses.mjs: 3 of 5 runs that lost calls, Node
   * 20). Such a socket is let go for a new one, whose hello has what is unacknowledged sent again; the
   * binding carries batches meanwhile.
   */
  recover(): void {
    this.flushing = false;
    this.abandon();
    if (this.inStream > 0) {
      this.inStream = 0;
      this.replaceSocket();
    }
    if (this.sending) {
      this.sending = false;
      if (!this.closed) for (const b of this.inFlight) this.send(b.text);
    }
  }

  /** Lets the data socket go as dropSocket does, at once: nothing more is written to it. */
  private replaceSocket(): void {
    const sock = this.socket;
    if (sock === undefined) return;
    this.socket = undefined;
    this.socketUp = false;
    this.dropping = true;
    try {
      sock.destroy();
    } catch {
      // its 'close' may not come: the next send connects again
      this.dropping = false;
    }
  }

  /** Queues the events an interrupt emitted while one was being written. */
  private release(): void {
    for (const text of this.held.splice(0)) this.queue(text);
  }

  /** Closes the batch being filled: it waits in `bodies` for the window. */
  private seal(): void {
    const events = this.bodyEvents;
    const bytes = this.body.pos;
    // Buffer's toString is JavaScript, where an interrupt may land: it must not seal the same text again.
    this.writing = bytes;
    const text = this.body.take();
    this.writing = -1;
    this.bodyEvents = 0;
    this.bodies.push({ text, events, bytes });
    if (this.held.length > 0) this.release();
  }

  private schedule(): void {
    try {
      this.timer = this.setTimer(() => {
        this.timer = undefined;
        this.flush();
      }, this.config.flushMs);
      // A flush timer must never keep the target alive.
      this.timer.unref?.();
    } catch {
      // A worker paused before its bootstrap finished has no working timers yet: send now instead.
      this.timer = undefined;
      this.flush();
    }
  }

  /** Whether another batch may go out before the tracer acknowledges: by count (wider at a handover) and by bytes. */
  private windowOpen(handover = false): boolean {
    const count = this.config.maxInFlight * (handover ? HANDOVER_WINDOW_FACTOR : 1);
    return this.inFlight.length < count && this.inFlightBytes < (this.config.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES);
  }

  /**
   * Sends queued events as batches while the in-flight window allows. A host evaluation (an ack or flushNow
   * through the inspector) runs as an interrupt, possibly inside this very loop: the inner call returns at
   * once and the outer loop sends what it finds (measured: without the guard, the inner flush took the batch
   * the outer one had just sealed, and the outer one threw in the target's timer: a crash of a traced HTTP
   * server on Node 24, every batch through the binding).
   */
  flush(handover = false): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      this.flushNow(handover);
    } finally {
      this.flushing = false;
    }
  }

  private flushing = false;

  /**
   * A moment after which another thread may end this one, running none of its JavaScript (before it posts a
   * message or blocks: src/agent/index.ts): what is queued goes past the usual window, and batches whose
   * socket write still sits in the process (the kernel's buffer was full: the host reads behind) go again
   * through the binding, which the inspector delivers whatever becomes of the thread. The tracer keeps one copy.
   */
  handover(): void {
    this.flush(true);
    if (!this.socketUp || !this.socket || this.socket.writableLength === 0 || this.socketLost) return;
    for (const b of this.inFlight) {
      if (b.seq <= this.handedOver) continue;
      try {
        this.binding(b.text);
        this.viaBinding++;
      } catch {
        return; // the binding is gone: the socket carries it, or the tracer asks again
      }
      this.handedOver = b.seq;
    }
  }

  private flushNow(handover: boolean): void {
    // A thread that is exiting (or aborting) sends everything past the window: no ack could come in time.
    while (this.pending() && (this.exiting || this.windowOpen(handover))) {
      if (this.bodies.length === 0) {
        if (this.writing >= 0) break; // an interrupt inside an event: its batch goes later
        this.seal();
      }
      const sealed = this.bodies[0];
      if (sealed === undefined) break;
      const dropped = this.dropped;
      const body = dropped > 0 ? appendEvent(sealed.text, encodeEvent([this.clock.nowNs(), 'agent', 'dropped', this.config.actor, null, null, null, null, { count: dropped }])) : sealed.text;
      const seq = this.seq + 1;
      const text = encodeBatchOf({ seq, actor: this.config.actor, tsNs: this.clock.nowNs(), wallMs: Date.now() }, body);
      // The batch goes from the queue into flight with no JavaScript call in between: a termination lands
      // where V8 checks for interrupts (a function's entry, a loop's back-edge), so one that cuts this flush
      // leaves the batch either queued or numbered and in flight (resent by recover). Taken off the queue
      // before it was numbered and kept, it was lost, and the tracer then held every later batch back behind
      // the gap (test/fixtures/terminations/losses.mjs: 2 of 5 runs that lost calls, Node 20).
      this.inFlight.push({ seq, text });
      this.bodies.shift();
      this.seq = seq;
      this.dropped -= dropped;
      this.queueBytes -= sealed.bytes;
      this.queued -= sealed.events;
      this.inFlightBytes += text.length;
      this.send(text);
    }
    if (this.pending() && this.timer === undefined && !this.exiting && this.windowOpen()) this.schedule();
  }

  /** Events to send, or a count of dropped ones (it goes in a batch of its own when nothing else is queued). */
  private pending(): boolean {
    return this.queued > 0 || this.dropped > 0;
  }

  private send(text: string): void {
    this.sending = true;
    this.sendNow(text);
    this.sending = false;
  }

  private sendNow(text: string): void {
    if (this.socketUp && this.socket && !this.exiting) {
      this.inStream++;
      try {
        this.socket.write(`${text}\n`);
        this.viaSocket++;
        return;
      } catch {
        // fall through to the binding
      } finally {
        this.inStream--;
      }
    }
    if (!this.socket) this.connect();
    if (this.socketLost) return;
    try {
      this.binding(text);
      this.viaBinding++;
    } catch {
      // The binding is gone (session closed): the batch stays in flight until the tracer resumes.
    }
  }

  /** A send is under way: one that a termination cut may not have gone out (see recover). */
  private sending = false;
  /**
   * How many calls into the data socket's stream code (a write) or out of it (its callbacks) are on the
   * stack: a termination that cuts agent code there cuts Node's stream code too (see recover).
   */
  private inStream = 0;

  /**
   * The sequence number of the batch that will carry the last event queued now: the tracer has everything
   * queued so far once it has that batch. Beyond what was sent when the window is full (a burst queues more
   * than 16 batches: an answer that waited for the last batch sent lacked the rest).
   */
  lastQueuedSeq(): number {
    const filling = this.bodyEvents + this.held.length;
    const more = filling > 0 ? Math.ceil(filling / this.config.batchSize) : this.dropped > 0 && this.bodies.length === 0 ? 1 : 0;
    return this.seq + this.bodies.length + more;
  }

  /**
   * Writes a host call's answer on the data socket (after the batches the call sent): the tracer has it a
   * round trip sooner than through the inspector, which delays a worker's answer ~40 ms (the main thread's
   * inspector writes the call's own reply first, and Nagle holds the worker's answer until the host's
   * delayed ACK of it). The inspector's answer still comes; the tracer takes whichever arrives first.
   */
  answer(id: number, answer: unknown): void {
    if (!this.socketUp || !this.socket || this.exiting) return;
    const line = `${ANSWER_MARK}${id} ${JSON.stringify(answer)}\n`;
    this.inStream++;
    try {
      this.socket.write(line);
    } catch {
      // the inspector's answer carries it
    } finally {
      this.inStream--;
    }
  }

  /** The tracer stored every batch up to `seq`. */
  ack(seq: number): void {
    let i = 0;
    let bytes = 0;
    // Counted first, then taken with no JavaScript call in between (see flushNow): a termination may land in the loop.
    while (i < this.inFlight.length && this.inFlight[i]!.seq <= seq) bytes += this.inFlight[i++]!.text.length;
    if (i > 0) {
      this.inFlight.splice(0, i);
      this.inFlightBytes -= bytes;
    }
    // A full batch goes at once; a partial one waits for the flush timer. Sending whatever was queued on every
    // ack made many small batches: each is a write (socket) or a binding call, and in the profile of a traced
    // HTTP server those per-batch costs were the agent's largest (bench/README.md).
    if (this.bodies.length > 0 || this.exiting) this.flush();
    else if (this.pending() && this.timer === undefined) this.schedule();
  }

  /** After a reconnect: the tracer has everything up to `seq`; send the rest again, then carry on. */
  resume(seq: number, binding: (text: string) => void): void {
    this.binding = binding;
    this.socketLost = false;
    this.ack(seq);
    for (const b of this.inFlight) this.send(b.text);
    this.flush();
  }

  markExiting(): void {
    if (this.exiting) return;
    this.exiting = true;
    // What the socket holds in user space dies with the process: everything unacknowledged goes again through
    // the binding, which the inspector delivers before it lets the process go. The tracer keeps one copy.
    if (this.socketUp && this.socket) for (const b of this.inFlight) this.send(b.text);
    this.flush();
  }

  /** The host is gone: nothing more is sent, and what waits is let go. */
  discard(): void {
    this.bodies = [];
    this.body.pos = 0;
    this.writing = -1;
    this.held = [];
    this.bodyEvents = 0;
    this.queued = 0;
    this.queueBytes = 0;
    this.binding = () => undefined;
    this.close();
  }

  close(): void {
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
    this.flush();
    this.closed = true;
    if (this.reconnectTimer !== undefined) this.clearTimer(this.reconnectTimer);
    this.reconnectTimer = undefined;
    // end(), not destroy(): what the last flush wrote still reaches the tracer.
    this.socket?.end();
    this.socket = undefined;
    this.socketUp = false;
    this.control?.destroy();
    this.control = undefined;
  }

  /** Test hook: drops the data socket as a network failure would (the agent reconnects). */
  dropSocket(): void {
    this.dropping = this.socket !== undefined;
    this.socket?.destroy();
  }

  /**
   * `socketQueued`: bytes written to the data socket that are still in the process (the kernel's buffer was
   * full): a crash now loses them, as it loses the events still queued. Everything else was sent.
   */
  stats(): { seq: number; queued: number; queuedBytes: number; inFlight: number; inFlightBytes: number; dropped: number; socket: boolean; socketQueued: number; viaSocket: number; viaBinding: number } {
    return {
      seq: this.seq, queued: this.queued, queuedBytes: this.queueBytes, inFlight: this.inFlight.length, inFlightBytes: this.inFlightBytes, dropped: this.dropped,
      socket: this.socketUp, socketQueued: this.socket?.writableLength ?? 0, viaSocket: this.viaSocket, viaBinding: this.viaBinding,
    };
  }
}
