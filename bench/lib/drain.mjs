// Waiting for a fixture's agent to hand over everything it holds, through what a user has: the fixture's
// own report of its agent (`stats`) and the session's sync.

/**
 * Waits until the agent of `target` (a fixture from startFixture that answers `{cmd: 'stats'}`) holds
 * nothing, queued or unacknowledged, then brings the store of `scope` (from the package API's setup) up to
 * date. Each reply of the fixture is a line on its stdout, which the agent records (log/stdout) and may drop
 * like any other event: `lines.n` counts them. Returns the agent's last stats, undefined on timeout.
 */
export async function drain(target, scope, timeoutMs, lines = { n: 0 }) {
  const deadline = Date.now() + timeoutMs;
  let left;
  for (;;) {
    lines.n++;
    const { stats } = await target.request({ cmd: 'stats' }).catch(() => ({}));
    if (stats && stats.queued === 0 && stats.inFlight === 0) {
      left = stats;
      break;
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  // A sync waits a bounded time for the store's writer thread: asked again until nothing is left unwritten.
  for (const until = Date.now() + timeoutMs; (await scope.session.sync()) > 0 && Date.now() < until; );
  return left;
}
