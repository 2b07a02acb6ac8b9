// Where the functions of a script are, and the same script with those functions instrumented: each body is
// moved into an arrow that the agent's call hook runs (`globalThis.__nodescope_call`), so a call is recorded
// with its arguments, result, error and duration exactly like a CommonJS wrapper records it. The function
// object itself stays the same, so references taken before tracing (a destructured import, a saved
// callback) are traced too. Used on the host, on the source V8 holds (already JavaScript for TypeScript run
// by type stripping or tsx), for live edits of loaded ES modules (Debugger.setScriptSource).
//
// Inserted text never contains a newline, so line numbers (stack traces, source maps) are unchanged.
import { parse, type Node } from 'acorn';

import { BODY_NAME } from '../shared/stacks.js';
import { carried, liveEditChanges } from './v8_diff.js';

export { BODY_NAME };

export const CALL_HOOK = '__nodescope_call';

export interface FunctionSite {
  /** "quote", "Till#ring" (a method), "Till.create" (a static method), "default" */
  name: string;
  /** Offsets of the function's first character and just after its last, as V8 delimits it. */
  start: number;
  end: number;
  /** Offsets where the body starts (just inside "{", after any directive) and ends (at the closing "}"),
   * or the expression of an arrow with an expression body. */
  bodyStart: number;
  bodyEnd: number;
  /** An arrow: no own `this` or `arguments`, so the hook is given its parameters instead. */
  arrow: boolean;
  expressionBody: boolean;
  async: boolean;
  /** What the hook receives as the arguments. */
  argsExpression: string;
  /** The body starts with a directive ("use strict"), which the inserted code must follow. */
  afterDirective: boolean;
  /** Where the function can be replaced by a wrapper from inside its own scope, where no live edit is had:
   * the binding of a function declaration, or a method on its class. */
  rebind?: { binding: string } | { cls: string; key: string; static: boolean };
}

export interface Skipped {
  name: string;
  why: string;
}

export interface FoundFunctions {
  sites: FunctionSite[];
  skipped: Skipped[];
  /** The script is an ES module (it has import or export statements). */
  module: boolean;
}

type AnyNode = Node & Record<string, any>;

function parseAny(source: string): { ast: AnyNode; module: boolean } {
  const common = { ecmaVersion: 'latest' as const, allowHashBang: true, allowReturnOutsideFunction: false, allowAwaitOutsideFunction: true };
  try {
    return { ast: parse(source, { ...common, sourceType: 'module' }) as AnyNode, module: true };
  } catch {
    return { ast: parse(source, { ...common, sourceType: 'script', allowReturnOutsideFunction: true }) as AnyNode, module: false };
  }
}

const isFunction = (n: AnyNode | null | undefined): boolean =>
  !!n && (n.type === 'FunctionDeclaration' || n.type === 'FunctionExpression' || n.type === 'ArrowFunctionExpression');

/** The function esbuild (so tsx) names by a call around it, `const f = __name((…) => …, "f")`; else the node. */
const named = (n: AnyNode): AnyNode => (n.type === 'CallExpression' && n.callee.type === 'Identifier' && n.callee.name === '__name' && isFunction(n.arguments[0]) ? n.arguments[0] : n);

/**
 * The exported functions of a module (function declarations, `const f = () => …` (also inside esbuild's `__name`), the methods of exported
 * classes, `export { a as b }` of those, the default export), plus any function named in `names` wherever it
 * is declared (`helper`, `Cart#total`), or every function (EVERY_FUNCTION). Generators, getters, setters and
 * constructors are skipped, with why.
 */
export function findFunctions(source: string, names: string[] = []): FoundFunctions {
  const { ast, module } = parseAny(source);
  const sites: FunctionSite[] = [];
  const skipped: Skipped[] = [];
  const taken = new Set<AnyNode>();
  const add = (name: string, fn: AnyNode, rebind?: FunctionSite['rebind']) => {
    if (taken.has(fn)) return;
    taken.add(fn);
    const site = siteOf(source, name, fn);
    if (typeof site === 'string') skipped.push({ name, why: site });
    else sites.push({ ...site, ...(rebind ? { rebind } : fn.type === 'FunctionDeclaration' && fn.id ? { rebind: { binding: fn.id.name } } : {}) });
  };
  const addClass = (name: string, cls: AnyNode, only?: (method: string) => boolean) => {
    const local = cls.id?.name as string | undefined;
    for (const m of cls.body.body as AnyNode[]) {
      if (m.type !== 'MethodDefinition' || m.computed || m.key.type !== 'Identifier') continue;
      const full = `${name}${m.static ? '.' : '#'}${m.key.name}`;
      if (only && !only(full) && !only(m.key.name)) continue;
      if (m.kind === 'constructor') continue;
      if (m.kind !== 'method') {
        skipped.push({ name: full, why: `a ${m.kind}ter` });
        continue;
      }
      add(full, m.value, local ? { cls: local, key: m.key.name, static: !!m.static } : undefined);
    }
  };

  // Top-level declarations by local name, for `export { a as b }` and `export default a`.
  const locals = new Map<string, AnyNode>();
  for (const stmt of ast.body as AnyNode[]) {
    const decl = stmt.type === 'ExportNamedDeclaration' || stmt.type === 'ExportDefaultDeclaration' ? stmt.declaration : stmt;
    if (!decl) continue;
    if ((decl.type === 'FunctionDeclaration' || decl.type === 'ClassDeclaration') && decl.id) locals.set(decl.id.name, decl);
    if (decl.type === 'VariableDeclaration') for (const d of decl.declarations as AnyNode[]) if (d.id.type === 'Identifier' && d.init) locals.set(d.id.name, named(d.init));
  }
  const exportLocal = (exported: string, node: AnyNode | undefined): void => {
    if (!node) return;
    const n: AnyNode = node;
    if (isFunction(n)) add(exported, n);
    else if (n.type === 'ClassDeclaration' || n.type === 'ClassExpression') addClass(exported, n);
  };

  for (const stmt of ast.body as AnyNode[]) {
    if (stmt.type === 'ExportNamedDeclaration' && !stmt.source) {
      const decl = stmt.declaration;
      if (decl?.type === 'FunctionDeclaration') add(decl.id.name, decl);
      else if (decl?.type === 'ClassDeclaration') addClass(decl.id.name, decl);
      else if (decl?.type === 'VariableDeclaration') {
        for (const d of decl.declarations as AnyNode[]) if (d.id.type === 'Identifier') exportLocal(d.id.name, d.init && named(d.init));
      }
      for (const s of (stmt.specifiers ?? []) as AnyNode[]) {
        const exported = s.exported.type === 'Identifier' ? s.exported.name : String(s.exported.value);
        exportLocal(exported, locals.get(s.local.name));
      }
    } else if (stmt.type === 'ExportDefaultDeclaration') {
      const d = stmt.declaration as AnyNode;
      if (d.type === 'Identifier') exportLocal('default', locals.get(d.name));
      else exportLocal(d.id?.name ?? 'default', d);
    }
  }

  if (names.includes(EVERY_FUNCTION)) {
    // Every function of the script, after the exported ones (they keep their exported names): a server's
    // route handlers and callbacks are reached by no export. Classes first, so methods get Class#name.
    walk(ast, (node) => {
      if ((node.type === 'ClassDeclaration' || node.type === 'ClassExpression') && node.id) addClass(node.id.name, node);
    });
    const named = new Set(sites.map((s) => s.name));
    walkWithParent(ast, null, (node, parent) => {
      // Class members came with their class; an object's getters and setters run on a read, not a call.
      if (!isFunction(node) || taken.has(node) || parent?.type === 'MethodDefinition' || (parent?.type === 'Property' && parent.kind !== 'init')) return;
      let name = nameOf(source, node, parent);
      if (named.has(name)) name = `${name}@${position(source, node.start).lineNumber + 1}`;
      named.add(name);
      add(name, node);
    });
  } else if (names.length > 0) {
    const wanted = (n: string) => names.includes(n);
    walk(ast, (node) => {
      if (node.type === 'FunctionDeclaration' && node.id && wanted(node.id.name)) add(node.id.name, node);
      else if (node.type === 'VariableDeclarator' && node.id.type === 'Identifier' && node.init && isFunction(named(node.init)) && wanted(node.id.name)) add(node.id.name, named(node.init));
      else if ((node.type === 'ClassDeclaration' || node.type === 'ClassExpression') && node.id) addClass(node.id.name, node, wanted);
    });
  }
  sites.sort((a, b) => a.bodyStart - b.bodyStart);
  return { sites, skipped, module };
}

/**
 * The functions that start at the given positions (V8's [[FunctionLocation]] of live function objects: a
 * CommonJS module's exports), named as given; positions that match no function are left out.
 */
export function functionsAt(source: string, wanted: { name: string; lineNumber: number; columnNumber: number }[]): FunctionSite[] {
  const { ast } = parseAny(source);
  const lineStarts = [0];
  for (let i = source.indexOf('\n'); i >= 0; i = source.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const functions: AnyNode[] = [];
  walk(ast, (n) => {
    if (isFunction(n)) functions.push(n);
  });
  const sites: FunctionSite[] = [];
  for (const w of wanted) {
    const offset = (lineStarts[w.lineNumber] ?? Infinity) + w.columnNumber;
    // The innermost function whose head (from its start to its body) holds the position.
    const fn = functions.filter((f) => f.start <= offset && offset <= f.body.start).sort((a, b) => b.start - a.start)[0];
    if (!fn || sites.some((s) => s.bodyEnd === (fn.type === 'ArrowFunctionExpression' && fn.expression ? fn.end : fn.body.end - 1))) continue;
    const site = siteOf(source, w.name, fn);
    if (typeof site !== 'string') sites.push(site);
  }
  return sites.sort((a, b) => a.bodyStart - b.bodyStart);
}

/** `function_names` that asks for every function of a script. */
export const EVERY_FUNCTION = '*';

function walkWithParent(node: AnyNode, parent: AnyNode | null, visit: (n: AnyNode, parent: AnyNode | null) => void): void {
  visit(node, parent);
  for (const key of Object.keys(node)) {
    const value = node[key];
    if (Array.isArray(value)) {
      for (const v of value) if (v && typeof v.type === 'string') walkWithParent(v, node, visit);
    } else if (value && typeof value === 'object' && typeof value.type === 'string') walkWithParent(value, node, visit);
  }
}

/**
 * A function's name as a reader of the source would say it: its own name, the variable, property or
 * assignment it is the value of, or, for a callback, the call it is passed to with its first literal
 * argument (`app.get('/price/:sku') callback`, the route a handler serves).
 */
function nameOf(source: string, fn: AnyNode, parent: AnyNode | null): string {
  if (fn.id?.name) return fn.id.name as string;
  const text = (n: AnyNode): string => source.slice(n.start, n.end).replace(/\s+/g, ' ');
  const short = (t: string): string => (t.length > 60 ? `${t.slice(0, 59)}…` : t);
  if (parent?.type === 'VariableDeclarator' && parent.id.type === 'Identifier') return parent.id.name;
  if (parent?.type === 'AssignmentExpression' && parent.right === fn) return short(text(parent.left));
  if ((parent?.type === 'Property' || parent?.type === 'PropertyDefinition') && !parent.computed && parent.value === fn) return parent.key.type === 'Identifier' ? parent.key.name : String(parent.key.value);
  if ((parent?.type === 'CallExpression' || parent?.type === 'NewExpression') && parent.arguments.includes(fn)) {
    const first = parent.arguments[0] as AnyNode;
    const literal = first !== fn && first.type === 'Literal' && typeof first.value === 'string' ? `(${short(first.raw)})` : '';
    return `${short(text(parent.callee))}${literal} callback`;
  }
  return 'anonymous';
}

function walk(node: AnyNode, visit: (n: AnyNode) => void): void {
  walkWithParent(node, null, visit);
}

/** The site of one function, or why it cannot be instrumented. */
function siteOf(source: string, name: string, fn: AnyNode): FunctionSite | string {
  if (fn.generator) return 'a generator';
  const arrow = fn.type === 'ArrowFunctionExpression';
  const expressionBody = arrow && fn.expression === true;
  // An expression body's node leaves out its parentheses: the span is from "=>" to the arrow's end.
  let bodyStart = expressionBody ? source.lastIndexOf('=>', fn.body.start) + 2 : fn.body.start + 1;
  let afterDirective = false;
  if (!expressionBody) {
    // A directive prologue ("use strict") stays where it is: it decides the function's own strictness.
    for (const stmt of fn.body.body as AnyNode[]) {
      if (stmt.type !== 'ExpressionStatement' || typeof stmt.directive !== 'string') break;
      bodyStart = stmt.end;
      afterDirective = true;
    }
  }
  const bodyEnd = expressionBody ? fn.end : fn.body.end - 1;
  return { name, start: fn.start, end: fn.end, bodyStart, bodyEnd, arrow, expressionBody, async: !!fn.async, argsExpression: arrow ? paramsArray(fn.params, source.slice(fn.start, fn.end)) : 'arguments', afterDirective };
}

/**
 * An arrow's parameters as an array expression; a destructured parameter is passed as what it bound. Spelled
 * unlike any text of the function: where the list read as the parameters did (`[error, _req, res, _next]` in
 * `(error, _req, res, _next) => …`), V8 took the live edit but no longer knew the function as the one it had,
 * and its closures kept their old code (an Express error handler, Node 20 and 24).
 */
function paramsArray(params: AnyNode[], own: string): string {
  const parts = params.map((p) => {
    if (p.type === 'Identifier') return p.name;
    if (p.type === 'AssignmentPattern' && p.left.type === 'Identifier') return p.left.name;
    if (p.type === 'RestElement' && p.argument.type === 'Identifier') return `...${p.argument.name}`;
    const bound: string[] = [];
    walk(p, (n) => {
      if (n.type === 'Identifier') bound.push(n.name);
    });
    return `{${[...new Set(bound)].join(', ')}}`;
  });
  const separator = parts.length < 2 ? ', ' : ([',', ' ,', ' , ', ',  '].find((sep) => !own.includes(parts.join(sep))) ?? ',');
  return `[${parts.join(separator)}]`;
}

interface Insert {
  at: number;
  text: string;
  /** At one offset a closing text goes before an opening one. */
  order: number;
}

/** The texts that run a site's body through the hook, in one of its spellings (see instrumented). */
function insertsOf(source: string, site: FunctionSite, id: number, spelling: number): Insert[] {
  const run = `${site.async ? 'async ' : ''}() =>`;
  const call = `(globalThis.${CALL_HOOK} ?? ((i, t, a, f) => f()))(${id}, ${site.arrow ? 'undefined' : 'this'}, ${site.argsExpression}, `;
  // Spaces that change nothing but the diff V8 finds: before and after the body.
  const pad = ' '.repeat(spelling % 4);
  const padEnd = ' '.repeat(spelling >> 2);
  if (site.expressionBody) {
    // V8 finds a function again where its last character ends the new one: an expression body that ends
    // in ")" can end the hook's call; one that does not is lost whatever is inserted (instrumented).
    if (source.slice(site.bodyStart, site.bodyEnd).trimEnd().endsWith(')')) {
      return [
        { at: site.bodyStart, text: ` ${call}{${pad} ${BODY_NAME}: ${run} (`, order: 1 },
        { at: site.bodyEnd, text: `)${padEnd} }.${BODY_NAME})`, order: 0 },
      ];
    }
    return [
      { at: site.bodyStart, text: `{ let ${BODY_NAME}; return ${call}${BODY_NAME} = ${run} (`, order: 1 },
      { at: site.bodyEnd, text: `)); }`, order: 0 },
    ];
  }
  // The shape is V8's to judge: its live-edit diff takes some texts around a body for a change of the
  // module's top level (BlockedByTopLevelEsModuleChange). Body first, then "; <call>" after it, was
  // refused for every function written on one line (`function f(x) { return x; }`) and every class
  // method on one line; the call around the body, closed by "}); " and the original "}", is taken for
  // one-line and multi-line functions alike (Node 20, 22 and 24). `__ns$f = …` names the body's frame.
  return [
    { at: site.bodyStart, text: `${site.afterDirective ? ';' : ' '}let ${BODY_NAME};${pad} return ${call}${BODY_NAME} = ${run} {`, order: 1 },
    { at: site.bodyEnd, text: `})${padEnd}; `, order: 0 },
  ];
}

/** How many spellings of a site are tried before it counts as lost: 0 to 3 spaces more at either end. */
const SPELLINGS = 16;

function applyInserts(source: string, inserts: Insert[]): string {
  // From the end, so earlier offsets stay valid.
  const sorted = [...inserts].sort((a, b) => b.at - a.at || a.order - b.order);
  let out = source;
  for (const { at, text } of sorted) out = out.slice(0, at) + text + out.slice(at);
  return out;
}

/**
 * The source with each site's body run by the call hook under the given site number, as live edits make
 * it, one site after another in the order given. Without the hook (the agent gone), an instrumented
 * function runs its body directly. V8 takes an edit whose diff loses the function (see v8_diff.ts), and
 * its closures made before then keep their old code: each site gets the first of its spellings that
 * V8's diff finds again; `lost` names those none of them saves (an arrow whose expression body does not
 * end in ")", usually a route handler registered before the trace).
 */
export function instrumented(source: string, sites: { site: FunctionSite; id: number }[]): { source: string; lost: string[] } {
  const inserts: { site: FunctionSite; list: Insert[] }[] = [];
  const lost: string[] = [];
  for (const { site, id } of sites) {
    // Each edit comes with the sites edited before it again: their spellings are kept, not sought again.
    const known = spellings.get(site);
    if (known?.id === id && known.source === source) {
      inserts.push({ site, list: insertsOf(source, site, id, known.spelling) });
      if (known.lost) lost.push(site.name);
      continue;
    }
    const all = inserts.flatMap((i) => i.list);
    const before = applyInserts(source, all);
    // Where the function is in the text before this edit: an insert at its end is inside it when it belongs
    // to a function nested in it.
    const within = new Set(inserts.filter((i) => i.site.start > site.start && i.site.end <= site.end).flatMap((i) => i.list));
    const start = site.start + all.filter((i) => i.at <= site.start).reduce((n, i) => n + i.text.length, 0);
    const end = site.end + all.filter((i) => i.at < site.end || (i.at === site.end && within.has(i))).reduce((n, i) => n + i.text.length, 0);
    let chosen: { list: Insert[]; spelling: number } | undefined;
    for (let spelling = 0; spelling < SPELLINGS && !chosen; spelling++) {
      const list = insertsOf(source, site, id, spelling);
      const grown = list.reduce((n, i) => n + i.text.length, 0);
      const found = carried(liveEditChanges(before, applyInserts(source, [...all, ...list])), start, end);
      if (found?.start === start && found.end === end + grown) chosen = { list, spelling };
    }
    if (!chosen) lost.push(site.name);
    const spelling = chosen?.spelling ?? 0;
    spellings.set(site, { id, source, spelling, lost: !chosen });
    inserts.push({ site, list: chosen?.list ?? insertsOf(source, site, id, 0) });
  }
  return { source: applyInserts(source, inserts.flatMap((i) => i.list)), lost };
}

/** The spelling each site was given, by the source and number it was instrumented under. */
const spellings = new WeakMap<FunctionSite, { id: number; source: string; spelling: number; lost: boolean }>();

/** The source with each site's body run by the call hook (instrumented, without what it lost). */
export function instrument(source: string, sites: { site: FunctionSite; id: number }[]): string {
  return instrumented(source, sites).source;
}

/** Line and column (0-based, as the protocol counts) of an offset. */
export function position(source: string, offset: number): { lineNumber: number; columnNumber: number } {
  const before = source.slice(0, offset);
  const lineNumber = before.split('\n').length - 1;
  return { lineNumber, columnNumber: offset - (before.lastIndexOf('\n') + 1) };
}
