import { z } from 'zod';
import { renderRequest, requestView } from '../query/http.js';
import { paging } from '../query/page.js';
import { describeWindow } from '../query/time.js';
import { listRequest, paged, pagedAnswer, window } from './args.js';
import { defineTool, READ_ONLY } from './define.js';
import { pageOf } from './output.js';

export const get_http_requests = defineTool({
  name: 'get_http_requests',
  title: 'Incoming HTTP requests',
  description:
    'Incoming HTTP requests (web option), oldest first: time, thread, method, URL, status, duration, route, request_id. Paged.',
  annotations: READ_ONLY,
  schema: {
    status_min: z.number().int().min(100).max(599).optional().describe('Only status ≥ this (400: errors)'),
    slow_ms: z.number().min(0).optional().describe('Only requests taking ≥ this many ms'),
    route: z.string().min(1).optional().describe('Only this route (/users/:id) or URL prefix'),
    method: z.string().min(1).optional().describe('Only this HTTP method'),
    ...window,
    ...paged(),
  },
  output: pageOf('requests'),
  async handler(args, ctx) {
    const { window, page } = listRequest(args);
    const filter = { window, statusMin: args.status_min, slowMs: args.slow_ms, route: args.route, method: args.method };
    const { requests, total, more } = ctx.query.httpRequests(filter, page);
    const filters = [
      args.method ? args.method.toUpperCase() : '',
      args.route ? `route ${args.route}` : '',
      args.status_min !== undefined ? `status ≥ ${args.status_min}` : '',
      args.slow_ms !== undefined ? `≥ ${args.slow_ms} ms` : '',
    ].filter(Boolean).join(', ');
    const head = `HTTP requests${filters ? ` (${filters})` : ''}${describeWindow(window)}`;
    const pending = requests.filter((r) => r.pending).length;
    return pagedAnswer(
      { page, shown: requests.length, total, more },
      {
        head: `${head}: ${more ? 'more than ' : ''}${total}${pending ? ` (${pending} pending on this page)` : ''}`,
        lines: () => requests.map(renderRequest),
        empty: () => {
          const any = ctx.query.httpRequests({ window: { sinceMs: null, untilMs: null } }, paging(1, 1)).total;
          if (any === 0) throw new Error('no HTTP requests recorded: configure(web: true) switches web capture on, in every traced thread now and later; then send the server some traffic');
          return `${head}: none; ${any} requests are recorded in all: widen the filters.`;
        },
        data: { requests: requests.map(requestView) },
        after: ['get_function_calls or get_execution_path with request_id show what serving one of them did.'],
      },
    );
  },
});
