/** Text the site database can store: no NUL characters, no lone surrogates. */
import { describe, expect, it } from 'vitest';
import { findTextProblem, storableText, textProblem } from '../../functions/core/text.ts';

describe('storable text', () => {
  it('accepts ordinary text, accents and surrogate pairs', () => {
    for (const s of ['', 'alice', 'Zoë', '日本', 'emoji 😀'])
      expect(textProblem(s)).toBeUndefined();
  });

  it('refuses NUL and lone surrogates, high or low', () => {
    expect(textProblem('a\u0000b')).toBe('must not contain NUL characters');
    for (const s of ['\uD800', 'x\uD800y', '\uDC00', 'a\uDC00\uD800'])
      expect(textProblem(s), JSON.stringify(s)).toMatch(/lone surrogate/);
  });

  it('finds the first bad string in nested values, keys included, with its path', () => {
    expect(findTextProblem({ a: ['ok', { b: 'x\u0000' }] })).toEqual({
      path: ['a', 1, 'b'],
      message: 'must not contain NUL characters',
    });
    expect(findTextProblem({ c: { '\uD800': 1 } })?.path).toEqual(['c']);
    expect(findTextProblem({ a: 1, b: [true, null] })).toBeUndefined();
  });

  it('makes refused text storable for a log row, without splitting a pair into a lone half', () => {
    expect(storableText('a\u0000b\uD800', 10)).toBe('a\uFFFDb\uFFFD');
    expect(storableText('ab😀', 3)).toBe('ab\uFFFD');
    expect(textProblem(storableText('ab😀', 3))).toBeUndefined();
  });
});
