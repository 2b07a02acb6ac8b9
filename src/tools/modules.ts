// The error for a module with no recorded calls, shared by the tools that read calls.
import type { ToolContext } from './define.js';

/** Says which modules do have calls, or that trace_module comes first. */
export function noCallsError(ctx: ToolContext, module: string): Error {
  const modules = ctx.query.modulesWithCalls();
  return new Error(
    modules.length
      ? `no calls recorded for module "${module}". Modules with recorded calls: ${modules.join(', ')}. Pass one of these, or call trace_module first.`
      : `no calls recorded for module "${module}" yet: call trace_module first, then exercise the program.`,
  );
}
