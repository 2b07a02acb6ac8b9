import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { exportTrace, MAX_EXPORT_EVENTS } from '../query/export.js';
import { describeWindow, parseWindow, TIME_HELP } from '../query/time.js';
import { defineTool } from './define.js';

export const export_trace = defineTool({
  name: 'export_trace',
  title: 'Write the trace as a Perfetto / Chrome trace file',
  description:
    'Writes the recorded events of a time window as a Chrome Trace Event JSON file that opens in ui.perfetto.dev and chrome://tracing: one track per thread and process, calls as slices, messages as flow arrows, HTTP requests as slices, state changes, logs and crashes as instant events. Answers the file path and what is in it.',
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: false },
  schema: {
    start: z.union([z.string(), z.number()]).optional().describe(`Start of the window (${TIME_HELP}); default: the first event.`),
    end: z.union([z.string(), z.number()]).optional().describe('End of the window, same forms; default: now.'),
    path: z.string().optional().describe('The file to write; default: a new file in the temporary folder.'),
  },
  async handler({ start, end, path }, ctx) {
    const window = parseWindow(start, end);
    const { trace, counts } = exportTrace(ctx.query.store, window);
    const file = resolve(path ?? join(tmpdir(), `nodescope-${new Date().toISOString().replace(/[:.]/g, '-')}.trace.json`));
    writeFileSync(file, JSON.stringify(trace));
    const cut = trace.metadata.cut ? ` Cut at ${MAX_EXPORT_EVENTS} events: narrow the window for the rest.` : '';
    return {
      text: `Wrote ${file}${describeWindow(window)}: ${counts.calls} calls, ${counts.messages} messages, ${counts.requests} HTTP requests, ${counts.instants} instant events, from ${trace.metadata.events} recorded events. Open it in ui.perfetto.dev or chrome://tracing.${cut}`,
      data: { file, ...counts, events: trace.metadata.events, cut: trace.metadata.cut },
    };
  },
});
