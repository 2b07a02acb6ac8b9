import { z } from 'zod';
import { DEFAULT_TAIL, logView, MAX_TAIL, renderLog } from '../query/logs.js';
import { describeWindow, parseWindow } from '../query/time.js';
import { since } from './args.js';
import { defineTool, READ_ONLY } from './define.js';

export const get_logs = defineTool({
  name: 'get_logs',
  title: 'Output of the target',
  description:
    "Shows what the target wrote to stdout and stderr — console methods, stream writes, loggers writing to file descriptors 1 and 2 (pino) — the latest lines, oldest first: time, thread that wrote it, level (the console method, a JSON log line's level, else stdout or stderr), text, and the request being served when one was. Filter by actor, level, substring and time.",
  annotations: READ_ONLY,
  schema: {
    pid_string: z.string().min(1).optional().describe('Only this thread or process: an id from any tool (4242, 4242/w1), a bare OS pid or a name; default every actor'),
    level: z.enum(['log', 'info', 'warn', 'error', 'debug', 'trace', 'fatal', 'stdout', 'stderr']).optional().describe('Only this level: a console method, a JSON log level (pino), or stdout/stderr for other writes'),
    grep: z.string().min(1).optional().describe('Only lines containing this text (case-insensitive for ASCII letters)'),
    since,
    tail: z.number().int().min(1).max(MAX_TAIL).optional().describe(`How many of the latest matching lines (default ${DEFAULT_TAIL}, at most ${MAX_TAIL})`),
  },
  async handler(args, ctx) {
    const window = parseWindow(args.since, undefined);
    const actor = args.pid_string ? ctx.resolveActor(args.pid_string).id : undefined;
    const actors = actor ? ctx.query.actorFamily(actor) : undefined;
    const tail = args.tail ?? DEFAULT_TAIL;
    const { lines, total } = ctx.query.logs({ actors, level: args.level, grep: args.grep, window }, tail);
    const filters = [actor ? `of ${actor}` : '', args.level ? `level ${args.level}` : '', args.grep ? `containing ${JSON.stringify(args.grep)}` : ''].filter(Boolean).join(', ');
    const head = `Output${filters ? ` (${filters})` : ''}${describeWindow(window)}`;
    const data = { lines: lines.map(logView), total };
    if (total === 0) {
      const any = ctx.query.logs({ window: { sinceMs: null, untilMs: null } }, 1).total;
      return { text: any ? `${head}: none; ${any} lines are recorded in all: widen the filters.` : `${head}: none recorded. Output is recorded once the target is attached or launched.`, data };
    }
    const more = total > lines.length ? `showing the last ${lines.length} of ${total}; raise tail (at most ${MAX_TAIL}) or narrow with since, level or grep` : `showing ${total} of ${total}`;
    return { text: [`${head}: ${total} line${total === 1 ? '' : 's'}`, ...lines.map(renderLog), more].join('\n'), data };
  },
});
