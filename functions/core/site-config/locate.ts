/**
 * Finds the line of a configuration file that a problem's path names
 * (`policies[1].entries[0].pool` → line 14), so an editor can show each error next to its
 * line. The deepest part of the path that exists in the file counts: a missing key points at
 * the entry it is missing from.
 */
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { ConfigProblem } from './validate.ts';

/** `policies[1].entries[0].pool` → `['policies', 1, 'entries', 0, 'pool']`. */
export function parsePath(path: string): (string | number)[] {
  const parts: (string | number)[] = [];
  for (const m of path.matchAll(/\[(\d+)\]|([^.[\]]+)/g)) {
    parts.push(m[1] === undefined ? m[2]! : Number(m[1]));
  }
  return path === '(file)' ? [] : parts;
}

/** The 1-based line of `path` in a YAML (or JSON) text, or null when the text does not parse. */
function lineOf(
  contents: Node | null,
  path: (string | number)[],
  line: (offset: number) => number,
): number {
  let node: unknown = contents;
  let found = 1;
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isScalar(p.key) && String(p.key.value).toLowerCase() === String(part).toLowerCase(),
      );
      if (!pair) break;
      const at = (isScalar(pair.key) && pair.key.range) || (pair.value as Node | null)?.range;
      if (at) found = line(at[0]);
      node = pair.value;
    } else if (isSeq(node) && typeof part === 'number') {
      const item = node.items[part] as Node | undefined;
      if (!item) break;
      if (item.range) found = line(item.range[0]);
      node = item;
    } else {
      break;
    }
  }
  return found;
}

/** Each problem with the line its path names (null when the text is not YAML or JSON). */
export function locateProblems(
  text: string,
  problems: readonly ConfigProblem[],
): { path: string; message: string; line: number | null }[] {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  const broken = doc.errors.length > 0;
  return problems.map((p) => ({
    ...p,
    line: broken
      ? null
      : lineOf(doc.contents, parsePath(p.path), (offset) => counter.linePos(offset).line),
  }));
}
