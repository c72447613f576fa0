/**
 * Snapshot of both templates with cdk.json's context, asset hashes blanked: a change in
 * the synthesized infrastructure shows up as a reviewable diff (`npx vitest -u` accepts it).
 * Bundles and the gateway image change their hashes with every code change, so those are
 * replaced by a placeholder, as is the hash of the migration files.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Synthesized, synthDeskbroker } from './synth.ts';

let s: Synthesized;

beforeAll(() => {
  s = synthDeskbroker();
});
afterAll(() => s?.cleanup());

/** The template with every asset hash (64 hex digits) and the migrations hash blanked. */
function blankHashes(template: unknown): unknown {
  const text = JSON.stringify(template)
    .replace(/[0-9a-f]{64}/g, '<asset-hash>')
    .replace(/("Migrations":")[0-9a-f]{16}"/g, '$1<migrations-hash>"');
  return JSON.parse(text);
}

it('keeps the stateful template', () => {
  expect(blankHashes(s.raw.stateful)).toMatchSnapshot();
});

it('keeps the stateless template', () => {
  const blanked = blankHashes(s.raw.stateless);
  expect(JSON.stringify(blanked)).not.toMatch(/[0-9a-f]{64}/);
  expect(blanked).toMatchSnapshot();
});
