/**
 * Summarises a V8 CPU profile (.cpuprofile): self time by package or file, heaviest first.
 *   node scripts/bench/profile-summary.ts FILE [--by package|function] [--top 30]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    by: { type: 'string', default: 'package' },
    top: { type: 'string', default: '30' },
    callers: { type: 'string' },
  },
});
const profile = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
};
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const totals = new Map<string, number>();
let all = 0;
profile.samples.forEach((id, i) => {
  const node = byId.get(id)!;
  const dt = profile.timeDeltas[i] ?? 0;
  all += dt;
  const url = node.callFrame.url;
  const pkg = url.includes('node_modules/')
    ? url
        .split('node_modules/')
        .at(-1)!
        .split('/')
        .slice(0, url.split('node_modules/').at(-1)!.startsWith('@') ? 2 : 1)
        .join('/')
    : url.startsWith('node:')
      ? url
      : url
        ? url.replace(/^file:\/\/.*?\/(functions|scripts|test)\//, '$1/')
        : `(${node.callFrame.functionName || 'native'})`;
  const key =
    values.by === 'function'
      ? `${node.callFrame.functionName || '(anon)'}  ${pkg}:${node.callFrame.lineNumber}`
      : pkg;
  totals.set(key, (totals.get(key) ?? 0) + dt);
});
const top = [...totals].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top));
for (const [key, us] of top)
  console.log(
    `${((us / all) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}`,
  );

// --callers NAME: the call stacks (5 frames up) that spend the most time in functions named NAME.
const callersOf = process.argv.indexOf('--callers');
if (callersOf > 0) {
  const name = process.argv[callersOf + 1]!;
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stacks = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    if (byId.get(id)!.callFrame.functionName !== name) return;
    const frames: string[] = [];
    let cur = parent.get(id);
    while (cur !== undefined && frames.length < 14) {
      const f = byId.get(cur)!.callFrame;
      frames.push(
        `${f.functionName || '(anon)'}@${f.url.split('/').slice(-2).join('/')}:${f.lineNumber}`,
      );
      cur = parent.get(cur);
    }
    const key = frames.join(' < ');
    stacks.set(key, (stacks.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  console.log(`\ncallers of ${name}:`);
  for (const [k, us] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 8))
    console.log(`${(us / 1000).toFixed(0).padStart(7)} ms  ${k}`);
}
