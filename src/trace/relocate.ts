// Moves a process's inspector to another port. SIGUSR1 always opens the process's configured port (9229 by
// default), so a family attached by pid must free it after each attach. inspector.close() blocks until no
// session is connected, so the move is scheduled with setImmediate and runs once we have disconnected.
import { WebSocketSession } from './cdp.js';
import { inspectorUrl, listeningPorts, waitFor } from './discovery.js';

/** Returns the inspector's new ws URL. `port` 0 picks a random free port. */
export async function relocateInspector(url: string, pid: number, port: number): Promise<string> {
  const before = listeningPorts(pid);
  const session = await WebSocketSession.connect(url, `relocate ${pid}`);
  try {
    await session.send('Runtime.evaluate', {
      expression: `setImmediate(() => { try { const i = process.getBuiltinModule('inspector'); i.close(); i.open(${port}, '127.0.0.1', false); } catch {} }), undefined`,
      silent: true,
    });
  } finally {
    session.disconnect();
  }
  const moved = await waitFor(() => {
    const ports = listeningPorts(pid).filter((p) => (port === 0 ? !before.includes(p) : p === port));
    return ports[0];
  }, 3_000);
  if (moved === undefined) throw new Error(`the inspector of pid ${pid} did not move`);
  return inspectorUrl('127.0.0.1', moved);
}
