/**
 * Text the site database can store. PostgreSQL's `text` and `jsonb` refuse the NUL character
 * and strings that are not valid Unicode (a lone UTF-16 surrogate has no UTF-8 form), and fail
 * the whole statement when one arrives; such input is refused where it enters instead.
 */

/** A lone high surrogate, or a low surrogate without its high half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What is wrong with a string, or undefined when PostgreSQL can store it. */
export function textProblem(s: string): string | undefined {
  if (s.includes('\u0000')) return 'must not contain NUL characters';
  if (LONE_SURROGATE.test(s)) return 'is not valid Unicode (it holds a lone surrogate)';
  return undefined;
}

/**
 * The first string in `value` (itself, or any key or string inside arrays and objects) that
 * PostgreSQL cannot store, with its path from `value` (`['client', 'attributes', 'os']`).
 */
export function findTextProblem(
  value: unknown,
  path: readonly PropertyKey[] = [],
): { path: PropertyKey[]; message: string } | undefined {
  if (typeof value === 'string') {
    const message = textProblem(value);
    return message ? { path: [...path], message } : undefined;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findTextProblem(value[i], [...path, i]);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const keyProblem = textProblem(k);
      if (keyProblem) return { path: [...path], message: `a key ${keyProblem}` };
      const found = findTextProblem(v, [...path, k]);
      if (found) return found;
    }
  }
  return undefined;
}

/** `s` made storable, for a log row that records what was refused: NUL and lone surrogates become U+FFFD. */
export function storableText(s: string, maxLength: number): string {
  // Cut first: a cut can split a surrogate pair, which the replacement then mends.
  return s
    .slice(0, maxLength)
    .replaceAll('\u0000', '\uFFFD')
    .replace(new RegExp(LONE_SURROGATE.source, 'g'), '\uFFFD');
}
