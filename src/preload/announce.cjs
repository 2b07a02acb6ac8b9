'use strict';
// Loaded through NODE_OPTIONS (--require) into every Node process that nodescope launches and into their
// descendants. It opens the inspector on a random loopback port, tells nodescope where (a file in the
// announce folder, written atomically), and waits until nodescope has installed its agent, so that nothing
// from the first line of the program on is missed. When the folder is gone (nodescope detached or ended),
// it does nothing at all. It never throws into the program.
(() => {
  const dir = process.env.NODESCOPE_ANNOUNCE_DIR;
  if (!dir) return;
  try {
    if (!require('node:worker_threads').isMainThread) return;
    const fs = require('node:fs');
    const path = require('node:path');
    const inspector = require('node:inspector');
    if (!fs.existsSync(dir)) return;
    let untraced;
    // An inspector open already (--inspect, or a debugger's own preload) is not ours to close on detach.
    let opened = false;
    try {
      if (!inspector.url()) {
        inspector.open(0, '127.0.0.1', false);
        opened = true;
      }
    } catch {
      // Node starts some processes without a V8 inspector (the `node --test` runner): nodescope is told.
      untraced = { argv: process.execArgv.concat(process.argv.slice(1)), why: 'Node started it without an inspector' };
    }
    const url = inspector.url();
    // Marks the wait from before the announcement until nodescope lets the process go: a go-ahead that comes
    // before waitForDebugger() has begun is lost, and nodescope sends it again while it finds the mark.
    const waiting = Symbol.for('nodescope.waiting');
    if (url) globalThis[waiting] = true;
    const file = path.join(dir, `${process.pid}.json`);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify({ pid: process.pid, ppid: process.ppid, url, opened, launch: process.env.NODESCOPE_LAUNCH, untraced }));
    fs.renameSync(`${file}.tmp`, file);
    // Tests only: the pause a loaded machine may put between the announcement and the wait.
    const pause = Number(process.env.NODESCOPE_TEST_ANNOUNCE_PAUSE_MS);
    if (pause > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pause);
    if (url) {
      try {
        inspector.waitForDebugger();
      } finally {
        delete globalThis[waiting];
      }
    }
  } catch {
    // Tracing is optional; the program is not.
  }
})();
