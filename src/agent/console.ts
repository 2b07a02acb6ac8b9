// Console output of the thread, recorded where it happens so that it keeps its exact place among the
// thread's other events (the inspector's consoleAPICalled arrives on another clock, out of order).
// Arguments go through the bounded serializer, never util.format, which could run user inspect hooks.
import type { Source } from './index.js';

const METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
const MAX_TEXT = 4096;

export const consoleSource: Source = {
  category: 'log',
  enable(core, patches) {
    const console = core.builtin('console') as Record<string, (...args: unknown[]) => void>;
    const self = core.config.actor;
    for (const method of METHODS) {
      if (typeof console[method] !== 'function') continue;
      patches.patch(console, method, (original) =>
        function (this: unknown, ...args: unknown[]) {
          if (patches.active) core.guard(() => core.emit('log', method, self, { text: render(core.capture(args) as unknown[]) }));
          return original.apply(this, args);
        },
      );
    }
  },
};

function render(values: unknown[]): string {
  let text = '';
  for (const v of Array.isArray(values) ? values : []) {
    const part = typeof v === 'string' ? v : JSON.stringify(v);
    text += (text ? ' ' : '') + part;
    if (text.length > MAX_TEXT) return text.slice(0, MAX_TEXT) + '…';
  }
  return text;
}
