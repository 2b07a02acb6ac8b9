import { z } from 'zod';
import { DEFAULT_TAIL, logView, MAX_TAIL, renderLog } from '../query/logs.js';
import { describeWindow, parseWindow } from '../query/time.js';
import { actor, optional, since } from './args.js';
import { defineTool, READ_ONLY } from './define.js';
import { count, rows } from './output.js';

export const get_logs = defineTool({
  name: 'get_logs',
  title: 'Output of the target',
  description:
    "Output to stdout and stderr (console, streams, loggers such as pino), latest lines, oldest first: time, thread, level, text, request.",
  annotations: READ_ONLY,
  schema: {
    pid_string: optional(actor('Only this thread or process')),
    level: z.enum(['log', 'info', 'warn', 'error', 'debug', 'trace', 'fatal', 'stdout', 'stderr']).optional().describe('Only this level: console method, JSON log level, or stdout/stderr'),
    grep: z.string().min(1).optional().describe('Only lines containing this text'),
    since,
    tail: z.number().int().min(1).max(MAX_TAIL).optional().describe(`Latest lines (default ${DEFAULT_TAIL}, max ${MAX_TAIL})`),
  },
  output: { lines: rows, total: count },
  async handler(args, ctx) {
    const window = parseWindow(args.since, undefined);
    const actor = args.pid_string ? ctx.resolveActor(args.pid_string).id : undefined;
    const actors = actor ? ctx.query.actorFamily(actor) : undefined;
    const tail = args.tail ?? DEFAULT_TAIL;
    const { lines, total, more } = ctx.query.logs({ actors, level: args.level, grep: args.grep, window }, tail);
    const filters = [actor ? `of ${actor}` : '', args.level ? `level ${args.level}` : '', args.grep ? `containing ${JSON.stringify(args.grep)}` : ''].filter(Boolean).join(', ');
    const head = `Output${filters ? ` (${filters})` : ''}${describeWindow(window)}`;
    const data = { lines: lines.map(logView), total, ...(more ? { more: true } : {}) };
    if (total === 0) {
      const any = ctx.query.logs({ window: { sinceMs: null, untilMs: null } }, 1).total;
      const none = any
        ? `${head}: none; ${any} lines are recorded in all: widen the filters.`
        : ctx.supervisionTree().length > 0
          ? `${head}: none recorded: the traced processes have printed nothing since they were attached.`
          : `${head}: none recorded. Output is recorded once the target is attached or launched.`;
      return { text: none, data };
    }
    const of = `${more ? 'more than ' : ''}${total}`;
    const footer = more || total > lines.length ? `showing the last ${lines.length} of ${of}; raise tail (at most ${MAX_TAIL}) or narrow with since, level or grep` : `showing ${total} of ${total}`;
    return { text: [`${head}: ${of} line${total === 1 && !more ? '' : 's'}`, ...lines.map(renderLog), footer].join('\n'), data };
  },
});
