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
    try {
      if (!inspector.url()) inspector.open(0, '127.0.0.1', false);
    } catch {
      // Node starts some processes without a V8 inspector (the `node --test` runner): nodescope is told.
      untraced = { argv: process.execArgv.concat(process.argv.slice(1)), why: 'Node started it without an inspector' };
    }
    const url = inspector.url();
    const file = path.join(dir, `${process.pid}.json`);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify({ pid: process.pid, ppid: process.ppid, url, launch: process.env.NODESCOPE_LAUNCH, untraced }));
    fs.renameSync(`${file}.tmp`, file);
    if (url) inspector.waitForDebugger();
  } catch {
    // Tracing is optional; the program is not.
  }
})();
