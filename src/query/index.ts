// The query layer: read-only questions over the store. Knows nothing of CDP or MCP. Each method is a pure
// function of the store (one file per concern); the tools, the CLI and scripts call the same methods.
import type { Store } from '../store/store.js';
import { functionCalls, modulesWithCalls, type CallFilter } from './calls.js';
import { messageFlow } from './messages.js';
import type { Page } from './page.js';
import { executionPath } from './path.js';
import { actorFamily, actorLabel } from './rows.js';
import { snapshotCount, stateChanges, stateTimeline } from './states.js';
import type { TimeWindow } from './time.js';

export class Query {
  constructor(readonly store: Store) {}

  /** An actor and the tracked objects it owns. */
  actorFamily(actor: string) {
    return actorFamily(this.store, actor);
  }

  /** `4242/o1 "cart" (Cart)`: the id, with its name and class when known. */
  actorLabel(actor: string) {
    return actorLabel(this.store, actor);
  }

  functionCalls(filter: CallFilter, page: Page) {
    return functionCalls(this.store, filter, page);
  }

  modulesWithCalls(max?: number) {
    return modulesWithCalls(this.store, max);
  }

  messageFlow(a: string, b: string, window: TimeWindow, page: Page) {
    return messageFlow(this.store, a, b, window, page);
  }

  snapshotCount(actor: string) {
    return snapshotCount(this.store, actor);
  }

  stateTimeline(actor: string, window: TimeWindow, page: Page) {
    return stateTimeline(this.store, actor, window, page);
  }

  stateChanges(actor: string, window: TimeWindow, page: Page) {
    return stateChanges(this.store, actor, window, page);
  }

  executionPath(actor: string, window: TimeWindow, page: Page) {
    return executionPath(this.store, actor, window, page);
  }
}
