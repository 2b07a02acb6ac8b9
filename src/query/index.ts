// The query layer: read-only questions over the store. Knows nothing of CDP or MCP.
import type { Store } from '../store/store.js';

export class Query {
  constructor(readonly store: Store) {}
}
