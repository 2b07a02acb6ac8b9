import { z } from 'zod';
import { renderRequest, requestView } from '../query/http.js';
import { checkPage, footer, paging } from '../query/page.js';
import { describeWindow, parseWindow } from '../query/time.js';
import { limit, page, since, until } from './args.js';
import { defineTool, READ_ONLY } from './define.js';

export const get_http_requests = defineTool({
  name: 'get_http_requests',
  title: 'Incoming HTTP requests',
  description:
    'Lists the incoming HTTP requests recorded with the web option, oldest first: time, serving thread, method, URL, status, duration, Express route, and the request id that get_function_calls and get_execution_path accept as request_id; requests with no response yet are marked pending. Filter by status, slowness, route, method and time; paged.',
  annotations: READ_ONLY,
  schema: {
    status_min: z.number().int().min(100).max(599).optional().describe('Only responses with at least this status (500: server errors, 400: all errors); pending requests are left out'),
    slow_ms: z.number().min(0).optional().describe('Only requests that took at least this many milliseconds; pending requests are left out'),
    route: z.string().min(1).optional().describe('Only this Express route pattern (/users/:id), or URLs starting with this path (/users/)'),
    method: z.string().min(1).optional().describe('Only this HTTP method (GET, POST, …)'),
    since,
    until,
    page,
    limit,
  },
  async handler(args, ctx) {
    const window = parseWindow(args.since, args.until);
    const p = paging(args.page, args.limit);
    const filter = { window, statusMin: args.status_min, slowMs: args.slow_ms, route: args.route, method: args.method };
    const { requests, total } = ctx.query.httpRequests(filter, p);
    const filters = [
      args.method ? args.method.toUpperCase() : '',
      args.route ? `route ${args.route}` : '',
      args.status_min !== undefined ? `status ≥ ${args.status_min}` : '',
      args.slow_ms !== undefined ? `≥ ${args.slow_ms} ms` : '',
    ].filter(Boolean).join(', ');
    const head = `HTTP requests${filters ? ` (${filters})` : ''}${describeWindow(window)}`;
    const data = { requests: requests.map(requestView), total, page: p.page };
    if (total === 0) {
      const any = ctx.query.httpRequests({ window: { sinceMs: null, untilMs: null } }, paging(1, 1)).total;
      if (any === 0) throw new Error('no HTTP requests recorded: configure(web: true) switches web capture on, in every traced thread now and later; then send the server some traffic');
      return { text: `${head}: none; ${any} requests are recorded in all: widen the filters.`, data };
    }
    checkPage(p, total);
    const pending = requests.filter((r) => r.pending).length;
    const text = [
      `${head}: ${total}${pending ? ` (${pending} pending on this page)` : ''}`,
      ...requests.map(renderRequest),
      footer(p, total, requests.length),
      'get_function_calls or get_execution_path with request_id show what serving one of them did.',
    ].join('\n');
    return { text, data };
  },
});
