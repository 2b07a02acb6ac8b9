// Where the exported functions of an ES module start, found in its source text. ES module exports are
// immutable bindings that no wrapper can replace, and the inspector's evaluate cannot import() to reach the
// namespace, so the breakpoint fallback locates functions by reading the source: `export function f(…) {`,
// `export const f = (…) => …`, and the methods of `export class C { m(…) { … } }`. Code written otherwise
// (re-exports, `export { a as b }`, computed names) is not found, and the answer says which functions were.

export interface FunctionSite {
  /** "quote", "Till#ring", "Till.create" */
  name: string;
  /** Offset just inside the function body, where a breakpoint hits once per call. */
  bodyOffset: number;
  /** What the breakpoint condition passes as the arguments. */
  argsExpression: string;
}

const IDENT = '[A-Za-z_$][\\w$]*';

export function findExportedFunctions(source: string): FunctionSite[] {
  const sites: FunctionSite[] = [];
  const fn = new RegExp(`export\\s+(?:default\\s+)?(?:async\\s+)?function\\s*\\*?\\s*(${IDENT})\\s*\\(`, 'g');
  for (let m = fn.exec(source); m; m = fn.exec(source)) {
    const body = bodyStart(source, m.index + m[0].length - 1);
    if (body !== undefined) sites.push({ name: m[1]!, bodyOffset: body, argsExpression: 'arguments' });
  }
  const arrow = new RegExp(`export\\s+(?:const|let|var)\\s+(${IDENT})\\s*=\\s*(?:async\\s*)?(\\([^)]*\\)|${IDENT})\\s*=>\\s*`, 'g');
  for (let m = arrow.exec(source); m; m = arrow.exec(source)) {
    const params = m[2]!.replace(/^\(|\)$/g, '').split(',').map((p) => p.trim());
    const simple = params.every((p) => p === '' || new RegExp(`^${IDENT}$`).test(p));
    const names = params.filter(Boolean);
    const offset = m.index + m[0].length;
    sites.push({ name: m[1]!, bodyOffset: source[offset] === '{' ? offset + 1 : offset, argsExpression: simple ? `[${names.join(', ')}]` : '[]' });
  }
  const cls = new RegExp(`export\\s+(?:default\\s+)?class\\s+(${IDENT})[^{]*\\{`, 'g');
  for (let m = cls.exec(source); m; m = cls.exec(source)) sites.push(...classMethods(source, m[1]!, m.index + m[0].length));
  return sites.sort((a, b) => a.bodyOffset - b.bodyOffset);
}

/** From the "(" of a parameter list to just after the "{" of the body. */
function bodyStart(source: string, open: number): number | undefined {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) {
      const brace = source.indexOf('{', i);
      return brace < 0 ? undefined : brace + 1;
    }
  }
  return undefined;
}

/** Methods at the top level of a class body (depth 1), skipping the constructor. */
function classMethods(source: string, cls: string, start: number): FunctionSite[] {
  const sites: FunctionSite[] = [];
  const method = new RegExp(`^\\s*(static\\s+)?(?:async\\s+)?\\*?\\s*(${IDENT})\\s*\\(`);
  let depth = 1;
  for (let i = start; i < source.length && depth > 0; i++) {
    const c = source[i];
    if (depth === 1 && c === '\n') {
      const m = method.exec(source.slice(i + 1, i + 201));
      if (m && m[2] !== 'constructor') {
        const body = bodyStart(source, i + 1 + m[0].length - 1);
        if (body !== undefined) sites.push({ name: `${cls}${m[1] ? '.' : '#'}${m[2]}`, bodyOffset: body, argsExpression: 'arguments' });
      }
    }
    if (c === '{') depth++;
    else if (c === '}') depth--;
  }
  return sites;
}

/** Line and column (0-based, as the protocol counts) of an offset. */
export function position(source: string, offset: number): { lineNumber: number; columnNumber: number } {
  const before = source.slice(0, offset);
  const lineNumber = before.split('\n').length - 1;
  return { lineNumber, columnNumber: offset - (before.lastIndexOf('\n') + 1) };
}
