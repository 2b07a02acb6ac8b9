// An error thrown through a traced function, as the program catches it: the stack it would have had
// untraced. A wrapper adds its frame to the stack of every error thrown through it, and a function
// instrumented in place three (the call hook's) with its body's frame named `__ns$f`: a program logging
// `err.stack` printed them. The stack is set again once, where the error leaves the traced function.
import { withoutTracerFrames } from '../shared/stacks.js';
import type { AgentCore } from './index.js';

/** V8's accessor of an error's `stack` in this realm (an own accessor pair from Node 22's V8; Node 20's is
 * an own data property, formatted when first read). */
let v8Stack: PropertyDescriptor | undefined;

/**
 * Leaves out the tracer's frames from the stack of an error of this realm. Left alone: anything but an error,
 * an error of another realm (a vm context: its own Error), and a stack the program's formatter made other
 * than a string (Error.prepareStackTrace returning call sites). The stack is formatted here if it was not
 * yet, as the call's record of the error formats it too.
 */
export function withoutOwnFrames(error: unknown, core: Pick<AgentCore, 'builtin' | 'isProxy'>): void {
  try {
    if (typeof error !== 'object' || error === null || !core.builtin('util').types.isNativeError(error) || !ofThisRealm(error, core)) return;
    const own = Object.getOwnPropertyDescriptor(error, 'stack');
    if (own === undefined) return;
    if ('value' in own) {
      // Node 20 (formatted by this read), or a stack the program set.
      if (typeof own.value !== 'string' || !own.writable) return;
      const tidy = withoutTracerFrames(own.value);
      if (tidy !== own.value) Object.defineProperty(error, 'stack', { value: tidy });
      return;
    }
    v8Stack ??= Object.getOwnPropertyDescriptor(new Error(), 'stack');
    if (own.get === undefined || own.get !== v8Stack?.get || own.set !== v8Stack?.set) return;
    const stack: unknown = own.get.call(error);
    if (typeof stack !== 'string') return;
    const tidy = withoutTracerFrames(stack);
    if (tidy !== stack) own.set!.call(error, tidy);
  } catch {
    // the error stays as it was
  }
}

/** Whether Error.prototype of this realm is on the error's chain (walked without running a Proxy's trap). */
function ofThisRealm(error: object, core: Pick<AgentCore, 'isProxy'>): boolean {
  let at: object | null = error;
  for (let depth = 0; depth < 16 && at !== null; depth++) {
    if (core.isProxy(at)) return false;
    at = Object.getPrototypeOf(at) as object | null;
    if (at === Error.prototype) return true;
  }
  return false;
}
