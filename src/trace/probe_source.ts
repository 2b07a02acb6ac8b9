// What trace_line reads in the source, on the host: the names in scope at a position of a generated script
// (the breakpoint condition can reach a local only by naming it), and whether an expression a user gave is
// free of side effects. A breakpoint condition runs without the inspector's side-effect checks (those need
// a paused frame), so expressions are checked here, syntactically, before anything is installed.
import { parse, parseExpressionAt, type Node, type Options } from 'acorn';
import { BODY_NAME } from './instrument.js';

export interface ScopeNames {
  /** Parameters and variables of the innermost function (and its blocks) around the position. */
  locals: string[];
  /** Variables of the enclosing functions and the module: reachable if the function uses them. */
  closure: string[];
}

/** Names captured per hit at most, each side: a probe on a line of a huge function stays bounded. */
const MAX_NAMES = 40;

type AnyNode = Node & Record<string, any>;

function parseProgram(source: string): AnyNode | undefined {
  const base: Options = { ecmaVersion: 'latest', allowHashBang: true, allowReturnOutsideFunction: true, allowAwaitOutsideFunction: true, allowImportExportEverywhere: true };
  for (const sourceType of ['module', 'script'] as const) {
    try {
      return parse(source, { ...base, sourceType, ...(sourceType === 'module' ? { allowReturnOutsideFunction: false } : {}) }) as AnyNode;
    } catch {
      // next
    }
  }
  return undefined;
}

/** Offset of a 1-based line and column. */
export function offsetOf(source: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const nl = source.indexOf('\n', offset);
    if (nl < 0) return source.length;
    offset = nl + 1;
  }
  return offset + Math.max(0, column - 1);
}

function patternNames(p: AnyNode | null | undefined, out: string[]): void {
  if (!p) return;
  switch (p.type) {
    case 'Identifier':
      out.push(p.name);
      break;
    case 'ObjectPattern':
      for (const prop of p.properties) patternNames(prop.type === 'RestElement' ? prop.argument : prop.value, out);
      break;
    case 'ArrayPattern':
      for (const e of p.elements) patternNames(e, out);
      break;
    case 'RestElement':
      patternNames(p.argument, out);
      break;
    case 'AssignmentPattern':
      patternNames(p.left, out);
      break;
  }
}

const FUNCTIONS = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

/** `var` declarations of a function body, not descending into nested functions. */
function hoisted(node: AnyNode, out: string[]): void {
  for (const child of children(node)) {
    if (FUNCTIONS.has(child.type) || child.type.startsWith('Class')) continue;
    if (child.type === 'VariableDeclaration' && child.kind === 'var') for (const d of child.declarations) patternNames(d.id, out);
    hoisted(child, out);
  }
}

/** let, const (and var at the top of a function body, found by `hoisted`) declared directly in a block. */
function lexical(body: AnyNode[], out: string[]): void {
  for (const s of body) {
    const decl = s.type === 'ExportNamedDeclaration' && s.declaration ? s.declaration : s;
    if (decl.type === 'VariableDeclaration' && decl.kind !== 'var') for (const d of decl.declarations) patternNames(d.id, out);
    if (s.type === 'ImportDeclaration') for (const spec of s.specifiers) out.push(spec.local.name);
  }
}

function children(node: AnyNode): AnyNode[] {
  const out: AnyNode[] = [];
  for (const key of Object.keys(node)) {
    if (key === 'type' || key === 'start' || key === 'end') continue;
    const v = node[key];
    if (Array.isArray(v)) for (const x of v) x && typeof x.type === 'string' && out.push(x);
    else if (v && typeof v === 'object' && typeof v.type === 'string') out.push(v);
  }
  return out;
}

/** The names in scope at `offset` of a script, innermost function first. Undefined if it does not parse. */
export function namesInScope(source: string, offset: number): ScopeNames | undefined {
  const program = parseProgram(source);
  if (!program) return undefined;
  const scopes: { fn: boolean; names: string[] }[] = [];
  const top: string[] = [];
  hoisted(program, top);
  lexical(program.body, top);
  scopes.push({ fn: true, names: top });
  let node: AnyNode | undefined = program;
  while (node) {
    const next: AnyNode | undefined = children(node).find((c) => c.start <= offset && offset <= c.end);
    if (!next) break;
    const names: string[] = [];
    if (FUNCTIONS.has(next.type)) {
      for (const p of next.params) patternNames(p, names);
      if (next.body.type === 'BlockStatement') {
        hoisted(next.body, names);
        lexical(next.body.body, names);
      }
      // The body of a function instrumented in place runs as an arrow inside it: one function to the user.
      const body = node.type === 'AssignmentExpression' && node.left?.name === BODY_NAME;
      scopes.push({ fn: !body, names });
    } else if (next.type === 'BlockStatement' && !FUNCTIONS.has(node.type)) {
      lexical(next.body, names);
      scopes.push({ fn: false, names });
    } else if (next.type === 'CatchClause') {
      patternNames(next.param, names);
      scopes.push({ fn: false, names });
    } else if (/^For(In|Of)?Statement$/.test(next.type)) {
      const init = next.init ?? next.left;
      if (init?.type === 'VariableDeclaration' && init.kind !== 'var') for (const d of init.declarations) patternNames(d.id, names);
      scopes.push({ fn: false, names });
    }
    node = next;
  }
  // The innermost function's scopes are the locals; everything outside it is closure.
  let inner = scopes.length - 1;
  while (inner > 0 && !scopes[inner]!.fn) inner--;
  const seen = new Set<string>();
  const pick = (list: typeof scopes) => {
    const out: string[] = [];
    for (const s of [...list].reverse()) for (const n of s.names) if (!seen.has(n) && n !== BODY_NAME && out.length < MAX_NAMES) seen.add(n), out.push(n);
    return out;
  };
  const locals = pick(scopes.slice(inner));
  // `__importStar`, `__defProp`, …: helpers tsc, esbuild and tsx put at the top of a module, not the app's.
  const closure = pick(scopes.slice(0, inner)).filter((n) => !n.startsWith('__'));
  return { locals, closure };
}

// ---------------------------------------------------------------------------------------------------------
// Expressions

/** Methods that read and compute only (on strings, numbers, arrays, Maps and Sets of the target). */
const PURE_METHODS = new Set([
  'at', 'charAt', 'charCodeAt', 'codePointAt', 'endsWith', 'includes', 'indexOf', 'lastIndexOf', 'slice', 'startsWith',
  'substring', 'toLowerCase', 'toUpperCase', 'trim', 'trimStart', 'trimEnd', 'toFixed', 'toPrecision', 'toString',
  'get', 'has', 'getTime', 'toISOString', 'valueOf',
]);
const PURE_FUNCTIONS = new Set(['Number', 'String', 'Boolean', 'isNaN', 'isFinite', 'parseInt', 'parseFloat', 'Array.isArray', 'Object.keys', 'Number.isInteger', 'Number.isFinite', 'Date.now']);
const FORBIDDEN: Record<string, string> = {
  AssignmentExpression: 'assigns',
  UpdateExpression: 'increments or decrements',
  NewExpression: 'constructs an object (runs a constructor)',
  TaggedTemplateExpression: 'calls a tag function',
  AwaitExpression: 'awaits',
  YieldExpression: 'yields',
  ImportExpression: 'imports a module',
  FunctionExpression: 'defines a function',
  ArrowFunctionExpression: 'defines a function',
  ClassExpression: 'defines a class',
};

function calleeName(node: AnyNode): string | undefined {
  if (node.type === 'Identifier') return node.name;
  if (node.type === 'MemberExpression' && !node.computed && node.object.type === 'Identifier') return `${node.object.name}.${node.property.name}`;
  return undefined;
}

/**
 * Why an expression could change the program, or undefined when it only reads: no assignment, update,
 * delete, `new`, function definition or await, and calls only of a fixed list of reading functions and
 * methods. (A getter or a Proxy the expression reads through still runs: as in the program itself.)
 */
export function unsafeExpression(text: string): string | undefined {
  let root: AnyNode;
  try {
    root = parseExpressionAt(text, 0, { ecmaVersion: 'latest' }) as AnyNode;
  } catch (error) {
    return `does not parse: ${(error as Error).message}`;
  }
  if (text.slice(root.end).trim() !== '') return `is not one expression (it goes on after "${text.slice(0, root.end)}")`;
  const stack: AnyNode[] = [root];
  while (stack.length) {
    const node = stack.pop()!;
    const why = FORBIDDEN[node.type];
    if (why) return `${why}: ${text.slice(node.start, node.end)}`;
    if (node.type === 'UnaryExpression' && node.operator === 'delete') return `deletes: ${text.slice(node.start, node.end)}`;
    if (node.type === 'CallExpression') {
      const name = calleeName(node.callee);
      const method = node.callee.type === 'MemberExpression' && !node.callee.computed ? node.callee.property.name : undefined;
      if (!(name && PURE_FUNCTIONS.has(name)) && !(method && PURE_METHODS.has(method))) return `calls ${text.slice(node.callee.start, node.callee.end)}(), which may have side effects (allowed: ${[...PURE_METHODS].slice(0, 6).join(', ')}, … and ${[...PURE_FUNCTIONS].slice(0, 4).join(', ')}, …)`;
    }
    stack.push(...children(node));
  }
  return undefined;
}

/** `{order.total}` placeholders of a logpoint template, in order. */
export function templateExpressions(template: string): string[] {
  return [...template.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!.trim());
}
