import { z } from 'zod';
import { MAX_EXPORT_EVENTS } from '../query/export.js';
import { describeWindow, parseWindow } from '../query/time.js';
import { defineTool, READ_ONLY } from './define.js';
import { count, text } from './output.js';

export const export_trace = defineTool({
  name: 'export_trace',
  title: 'Write the trace as a Perfetto / Chrome trace file',
  description:
    'Writes the recorded events of a time window as a Chrome Trace Event JSON file that opens in ui.perfetto.dev and chrome://tracing: one track per thread and process, calls as slices, messages as flow arrows, HTTP requests as slices, state changes, logs and crashes as instant events. Answers the file path and what is in it.',
  annotations: READ_ONLY,
  schema: {
    start: z.string().optional().describe('From: ISO 8601, epoch ms, or relative to now (-5m); default: the first event'),
    end: z.string().optional().describe('To: same forms; default: now'),
    path: z.string().optional().describe('A file name below the export folder (export_dir), e.g. "run.trace.json"; default: a new timestamped name. Paths outside it ("../"), symbolic links and files nodescope did not write are refused.'),
  },
  output: { file: text, calls: count, messages: count, requests: count, instants: count, events: count, cut: z.boolean() },
  async handler({ start, end, path }, ctx, progress) {
    const window = parseWindow(start, end);
    progress(0, 3, 'reading the recorded events');
    const { trace, counts } = ctx.query.exportTrace(window);
    progress(1, 3, `writing ${trace.traceEvents.length} trace events`);
    const text = JSON.stringify(trace);
    progress(2, 3, `writing ${text.length} bytes`);
    const file = ctx.writeExport(path, text, `nodescope-${new Date().toISOString().replace(/[:.]/g, '-')}.trace.json`);
    progress(3, 3, `wrote ${file}`);
    const cut = trace.metadata.cut ? ` Cut at ${MAX_EXPORT_EVENTS} events: narrow the window for the rest.` : '';
    return {
      text: `Wrote ${file}${describeWindow(window)}: ${counts.calls} calls, ${counts.messages} messages, ${counts.requests} HTTP requests, ${counts.instants} instant events, from ${trace.metadata.events} recorded events. Open it in ui.perfetto.dev or chrome://tracing.${cut}`,
      data: { file, ...counts, events: trace.metadata.events, cut: trace.metadata.cut },
    };
  },
});
