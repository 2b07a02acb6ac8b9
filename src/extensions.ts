// Tools a project adds, as ElixirScope lets users register their own Tidewave tools: modules named in the
// configuration (`tools`), each exporting `tools` (an array of defineTool values) or a default one. They get
// the same ToolContext and the same wrapper (validation, errors, sync before queries) as the built-in tools.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ToolDefinition } from './tools/define.js';
import { TOOLS } from './tools/registry.js';

const NAME = /^[a-z][a-z0-9_]{0,63}$/;

export async function loadTools(paths: readonly string[], builtIn: readonly ToolDefinition<any>[] = TOOLS): Promise<ToolDefinition<any>[]> {
  const added: ToolDefinition<any>[] = [];
  for (const path of paths) {
    let mod: { tools?: unknown; default?: unknown };
    try {
      mod = await import(pathToFileURL(resolve(path)).href);
    } catch (error) {
      throw new Error(`cannot load the tool module ${path}: ${(error as Error).message}`);
    }
    const list = Array.isArray(mod.tools) ? mod.tools : mod.default !== undefined ? [mod.default] : [];
    if (list.length === 0) throw new Error(`${path} exports no tools: export \`tools\` (an array of defineTool(…) values) or a default one`);
    for (const tool of list) {
      const problem = check(tool, [...builtIn, ...added]);
      if (problem) throw new Error(`${path}: ${problem}`);
      added.push(tool as ToolDefinition<any>);
    }
  }
  return [...builtIn, ...added].sort((a, b) => a.name.localeCompare(b.name));
}

function check(tool: unknown, known: readonly ToolDefinition<any>[]): string | undefined {
  const t = tool as Partial<ToolDefinition<any>>;
  if (typeof t !== 'object' || t === null) return 'a tool must be a defineTool({...}) value';
  if (typeof t.name !== 'string' || !NAME.test(t.name)) return `tool name ${JSON.stringify(t.name)} must be snake_case (a-z, 0-9, _)`;
  if (known.some((k) => k.name === t.name)) return `a tool named ${t.name} exists already`;
  if (typeof t.description !== 'string' || !t.description) return `${t.name} needs a description`;
  if (typeof t.schema !== 'object' || t.schema === null) return `${t.name} needs a schema (a flat object of zod types)`;
  if (typeof t.annotations !== 'object' || t.annotations === null) return `${t.name} needs annotations (readOnlyHint at least)`;
  if (typeof t.handler !== 'function') return `${t.name} needs a handler`;
  return undefined;
}
