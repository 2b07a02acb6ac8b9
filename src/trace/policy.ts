// What is recorded — the tracing level and the sampling rate — held in one place on the host: the Tracer
// owns the one RecordingPolicy. Its agents get the same settings in their config and apply them where events
// arise (src/agent/index.ts, by the same rules in src/shared/protocol.ts); the host's own rows (output the
// launcher saw, an exit it observed) pass admits() on their way in. The Store writes what it is given.
import { categoryOf, isCritical, levelAllows, sampleKeeps, type Level } from '../shared/protocol.js';

export class RecordingPolicy {
  /** Non-critical host rows offered so far: the sampling's counter. */
  private sampled = 0;

  constructor(
    public level: Level = 'full',
    public sampleRate = 1,
  ) {}

  /** Whether the level and sampling let an event of this type in (counts it for sampling). */
  admits(type: string): boolean {
    if (!levelAllows(this.level, categoryOf(type))) return false;
    return isCritical(type) || sampleKeeps(++this.sampled, this.sampleRate);
  }
}
