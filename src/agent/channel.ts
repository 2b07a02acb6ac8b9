// The agent's outbound path: a bounded queue, sealed into batches and pushed through the inspector binding.
// The binding has no backpressure (DESIGN.md), so the agent keeps at most `maxInFlight` batches that the
// tracer has not acknowledged; past that, events wait in the queue, and past `maxQueue` they are counted and
// dropped. Unacknowledged batches are kept so that after a reconnect the tracer can ask for them again.
import type { AgentConfig, WireBatch, WireEvent } from '../shared/protocol.js';

/** Room kept beyond maxQueue for critical events, so a flood of calls cannot crowd out a crash report. */
const CRITICAL_RESERVE = 1000;

export interface Clock {
  nowNs(): number;
}

export class Channel {
  private queue: WireEvent[] = [];
  private inFlight: { seq: number; text: string }[] = [];
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
  ) {}

  push(event: WireEvent, critical: boolean): void {
    const limit = this.config.maxQueue + (critical ? CRITICAL_RESERVE : 0);
    if (this.queue.length >= limit) {
      this.dropped++;
      return;
    }
    this.queue.push(event);
    if (this.exiting || this.queue.length >= this.config.batchSize) this.flush();
    else if (this.timer === undefined) this.schedule();
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

  /** Seals queued events into batches while the in-flight window allows. */
  flush(): void {
    // A thread that is exiting (or aborting) sends everything past the window: no ack could come in time.
    while ((this.queue.length > 0 || this.dropped > 0) && (this.exiting || this.inFlight.length < this.config.maxInFlight)) {
      const events = this.queue.splice(0, this.config.batchSize);
      if (this.dropped > 0) {
        events.push([this.clock.nowNs(), 'agent', 'dropped', this.config.actor, null, null, null, null, { count: this.dropped }]);
        this.dropped = 0;
      }
      const batch: WireBatch = { seq: ++this.seq, actor: this.config.actor, tsNs: this.clock.nowNs(), wallMs: Date.now(), events };
      const text = JSON.stringify(batch);
      this.inFlight.push({ seq: batch.seq, text });
      this.send(text);
    }
    if (this.queue.length > 0 && this.timer === undefined && !this.exiting && this.inFlight.length < this.config.maxInFlight) this.schedule();
  }

  private send(text: string): void {
    try {
      this.binding(text);
    } catch {
      // The binding is gone (session closed): the batch stays in flight until the tracer resumes.
    }
  }

  /** The tracer stored every batch up to `seq`. */
  ack(seq: number): void {
    let i = 0;
    while (i < this.inFlight.length && this.inFlight[i]!.seq <= seq) i++;
    if (i > 0) this.inFlight.splice(0, i);
    if (this.queue.length > 0) this.flush();
  }

  /** After a reconnect: the tracer has everything up to `seq`; send the rest again, then carry on. */
  resume(seq: number, binding: (text: string) => void): void {
    this.binding = binding;
    this.ack(seq);
    for (const b of this.inFlight) this.send(b.text);
    this.flush();
  }

  markExiting(): void {
    this.exiting = true;
    this.flush();
  }

  /** The host is gone: nothing more is sent, and what waits is let go. */
  discard(): void {
    this.queue = [];
    this.binding = () => undefined;
    this.close();
  }

  close(): void {
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
    this.flush();
  }

  stats(): { seq: number; queued: number; inFlight: number; dropped: number } {
    return { seq: this.seq, queued: this.queue.length, inFlight: this.inFlight.length, dropped: this.dropped };
  }
}
