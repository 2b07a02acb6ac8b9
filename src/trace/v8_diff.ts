// What V8's live edit (Debugger.setScriptSource) makes of a change, computed here the way V8 computes it
// (src/debug/liveedit.cc and liveedit-diff.cc, the same in Node 20 to 24): a diff of lines, then of the
// characters of each changed run of lines, by Myers' linear-space algorithm; then each function of the old
// script is looked for in the new one at its start and end carried through the diff. A function not found
// there keeps its old code in every closure made before the edit, although V8 answers "Ok": an instrumented
// function would record only the calls of closures made after it. Which of the equally short diffs Myers
// picks decides where a function's ends land, so the instrumentation is spelled to be found (instrument.ts).

/** A changed range of the old text and the range that replaces it in the new one. */
export interface SourceChange {
  start: number;
  end: number;
  newStart: number;
  newEnd: number;
}

/** Runs of changes between two sequences of lengths len1 and len2, as (pos1, pos2, len1, len2). */
function myers(len1: number, len2: number, equal: (i: number, j: number) => boolean, chunk: (p1: number, p2: number, l1: number, l2: number) => void): void {
  const size = len1 + len2 + 1;
  // Furthest x reached per diagonal, indexed from -size to size as V8 does (negative from the end).
  const forward = new Int32Array(size);
  const reverse = new Int32Array(size);
  const at = (v: Int32Array, i: number) => (i >= 0 ? i : size + i);
  interface Point {
    x: number;
    y: number;
  }
  const before = (a: Point, b: Point) => a.x < b.x && a.y < b.y;
  const middleSnake = (from: Point, to: Point): { from: Point; to: Point } | null => {
    const width = to.x - from.x;
    const height = to.y - from.y;
    if (width + height === 0) return null;
    const delta = width - height;
    forward[at(forward, 1)] = from.x;
    reverse[at(reverse, -1)] = to.x;
    for (let d = 0; d <= Math.ceil((width + height) / 2); ++d) {
      for (let k = -d; k <= d; k += 2) {
        const s: Point = { x: 0, y: 0 };
        const e: Point = { x: 0, y: 0 };
        if (k === -d || (k !== d && forward[at(forward, k - 1)]! < forward[at(forward, k + 1)]!)) s.x = e.x = forward[at(forward, k + 1)]!;
        else {
          s.x = forward[at(forward, k - 1)]!;
          e.x = s.x + 1;
        }
        e.y = from.y + (e.x - from.x) - k;
        s.y = d === 0 || s.x !== e.x ? e.y : e.y - 1;
        while (before(e, to) && equal(e.x, e.y)) {
          e.x++;
          e.y++;
        }
        forward[at(forward, k)] = e.x;
        const l = k - delta;
        if (delta % 2 !== 0 && l >= -d + 1 && l <= d - 1 && e.x >= reverse[at(reverse, l)]!) return { from: s, to: e };
      }
      for (let l = d; l >= -d; l -= 2) {
        const s: Point = { x: 0, y: 0 };
        const e: Point = { x: 0, y: 0 };
        if (l === d || (l !== -d && reverse[at(reverse, l - 1)]! > reverse[at(reverse, l + 1)]!)) s.x = e.x = reverse[at(reverse, l - 1)]!;
        else {
          s.x = reverse[at(reverse, l + 1)]!;
          e.x = s.x - 1;
        }
        const k = l + delta;
        e.y = from.y + (e.x - from.x) - k;
        s.y = d === 0 || s.x !== e.x ? e.y : e.y + 1;
        while (before(from, e) && equal(e.x - 1, e.y - 1)) {
          e.x--;
          e.y--;
        }
        reverse[at(reverse, l)] = e.x;
        if (delta % 2 === 0 && k >= -d && k <= d && e.x <= forward[at(forward, k)]!) return { from: e, to: s };
      }
    }
    return null;
  };
  const path = (from: Point, to: Point): Point[] | null => {
    const snake = middleSnake(from, to);
    if (!snake) return null;
    const head = path(from, snake.from);
    const tail = path(snake.to, to);
    return [...(head ?? [snake.from]), ...(tail ?? [snake.to])];
  };
  const points = path({ x: 0, y: 0 }, { x: len1, y: len2 });
  if (!points) return;
  let open: Point | null = null;
  const same = (p: Point) => {
    if (open === null) return;
    chunk(open.x, open.y, p.x - open.x, p.y - open.y);
    open = null;
  };
  const diagonal = (p: Point, to: Point): Point => {
    const q = { ...p };
    while (q.x < to.x && q.y < to.y && equal(q.x, q.y)) {
      same(q);
      q.x++;
      q.y++;
    }
    return q;
  };
  for (let i = 1; i < points.length; i++) {
    const to = points[i]!;
    let p = diagonal(points[i - 1]!, to);
    const step = to.x - p.x - (to.y - p.y);
    if (step !== 0) {
      open ??= { ...p };
      p = step < 0 ? { x: p.x, y: p.y + 1 } : { x: p.x + 1, y: p.y };
    }
    diagonal(p, to);
  }
  same(points[points.length - 1]!);
}

/** A text's lines, each with its newline (the last one without), as V8 compares them. */
function linesOf(text: string): string[] {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length - 1; i++) lines[i] += '\n';
  return lines;
}

/** V8's LiveEdit::CompareStrings: the changes from `before` to `after`, in order. */
export function liveEditChanges(before: string, after: string): SourceChange[] {
  const lines1 = linesOf(before);
  const lines2 = linesOf(after);
  // Common leading and trailing lines are left out of the diff (V8's NarrowDownInput).
  let prefix = 0;
  let at1 = 0;
  let at2 = 0;
  while (prefix < Math.min(lines1.length, lines2.length) && lines1[prefix] === lines2[prefix]) at1 = at2 += lines1[prefix++]!.length;
  let suffix = 0;
  while (suffix < Math.min(lines1.length - prefix, lines2.length - prefix) && lines1[lines1.length - suffix - 1] === lines2[lines2.length - suffix - 1]) suffix++;
  const starts = (lines: string[], from: number, count: number) => {
    const out = [from];
    for (let i = 0; i < count; i++) out.push(out[i]! + lines[prefix + i]!.length);
    return out;
  };
  const n1 = lines1.length - prefix - suffix;
  const n2 = lines2.length - prefix - suffix;
  const starts1 = starts(lines1, at1, n1);
  const starts2 = starts(lines2, at2, n2);
  const changes: SourceChange[] = [];
  myers(
    n1,
    n2,
    (i, j) => lines1[prefix + i] === lines2[prefix + j],
    (l1, l2, c1, c2) => {
      const from1 = starts1[l1]!;
      const from2 = starts2[l2]!;
      const len1 = starts1[l1 + c1]! - from1;
      const len2 = starts2[l2 + c2]! - from2;
      // Runs of 800 characters or more are one change (V8's CHUNK_LEN_LIMIT).
      if (len1 < 800 && len2 < 800) {
        myers(len1, len2, (i, j) => before.charCodeAt(from1 + i) === after.charCodeAt(from2 + j), (p1, p2, d1, d2) =>
          changes.push({ start: from1 + p1, end: from1 + p1 + d1, newStart: from2 + p2, newEnd: from2 + p2 + d2 }),
        );
      } else changes.push({ start: from1, end: from1 + len1, newStart: from2, newEnd: from2 + len2 });
    },
  );
  return changes;
}

/**
 * Where V8 looks for a function of the old text, from `start` to `end`, in the new one
 * (CalculateFunctionLiteralChanges): undefined where a change covers either end (the function is lost).
 * At one position, a function's ends count before a change that starts there.
 */
export function carried(changes: SourceChange[], start: number, end: number): { start: number; end: number } | undefined {
  const to = (position: number): number | undefined => {
    let shift = 0;
    for (const c of changes) {
      if (c.start < position && c.end >= position) return undefined;
      if (c.end < position) shift += c.newEnd - c.newStart - (c.end - c.start);
    }
    return position + shift;
  };
  const s = to(start);
  const e = to(end);
  return s === undefined || e === undefined ? undefined : { start: s, end: e };
}
