/** A unified diff of two small texts (config files), for `configure --dry-run`. */

type Op = { kind: ' ' | '-' | '+'; line: string; a: number; b: number };

/** Past this many cells the LCS table is not worth it: show the whole file replaced. */
const MAX_CELLS = 4_000_000;

function lines(text: string): string[] {
  if (text === '') return [];
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

function edits(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const ops: Op[] = [];
  if (n * m > MAX_CELLS) {
    a.forEach((line, i) => ops.push({ kind: '-', line, a: i, b: 0 }));
    b.forEach((line, j) => ops.push({ kind: '+', line, a: n, b: j }));
    return ops;
  }
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..]
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] =
        a[i] === b[j]
          ? lcs[(i + 1) * width + j + 1] + 1
          : Math.max(lcs[(i + 1) * width + j], lcs[i * width + j + 1]);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i], a: i++, b: j++ });
    } else if (i < n && (j === m || lcs[(i + 1) * width + j] >= lcs[i * width + j + 1])) {
      // removals before additions, as diff(1) shows them
      ops.push({ kind: '-', line: a[i], a: i++, b: j });
    } else {
      ops.push({ kind: '+', line: b[j], a: i, b: j++ });
    }
  }
  return ops;
}

function range(start: number, count: number): string {
  // Unified format: 1-based start; an empty range names the line before it.
  return count === 0 ? `${start},0` : count === 1 ? `${start + 1}` : `${start + 1},${count}`;
}

/** `---`/`+++` headers and `@@` hunks with `context` lines around each change; '' when equal. */
export function unifiedDiff(
  before: string,
  after: string,
  labelBefore: string,
  labelAfter: string,
  context = 3,
) {
  const ops = edits(lines(before), lines(after));
  const changed = ops.map((op, k) => (op.kind !== ' ' ? k : -1)).filter((k) => k >= 0);
  if (changed.length === 0) return '';
  const out = [`--- ${labelBefore}`, `+++ ${labelAfter}`];
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, changed[k] - context);
    let end = Math.min(ops.length, changed[k] + context + 1);
    while (k + 1 < changed.length && changed[k + 1] - context <= end) {
      k++;
      end = Math.min(ops.length, changed[k] + context + 1);
    }
    k++;
    const hunk = ops.slice(start, end);
    const aCount = hunk.filter((op) => op.kind !== '+').length;
    const bCount = hunk.filter((op) => op.kind !== '-').length;
    out.push(`@@ -${range(hunk[0].a, aCount)} +${range(hunk[0].b, bCount)} @@`);
    for (const op of hunk) out.push(op.kind + op.line);
  }
  return out.join('\n') + '\n';
}
