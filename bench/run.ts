import { printTable } from './stats.ts';

/**
 * Runs every benchmark in one process, one after another (2-core machines:
 * never in parallel), and prints a summary. `npm run bench -- latency store`
 * runs a subset; flags (`--quick`, `--minutes N`) are left for the benchmarks.
 */
const BENCHES: Record<string, () => Promise<{ run: () => Promise<Record<string, number>> }>> = {
  latency: () => import('./latency.ts'),
  protocol: () => import('./protocol.ts'),
  store: () => import('./store.ts'),
  logs: () => import('./logs.ts'),
  ingest: () => import('./ingest.ts'),
  web: () => import('./web.ts'),
  attention: () => import('./attention.ts'),
  startup: () => import('./startup.ts'),
  hostile: () => import('./hostile.ts'),
  heavy: () => import('./heavy.ts'),
  'scale-cost': () => import('./scale-cost.ts'),
  'folder-start': () => import('./folder-start.ts'),
  'watchers-suite': () => import('./watchers-suite.ts'),
  agents: () => import('./agents.ts'),
  'agents-journal': () => import('./agents-journal.ts'),
  watchers: () => import('./watchers.ts'),
  scale: () => import('./scale.ts'),
  'redis-away': () => import('./redis-away.ts'),
};

const VALUE_FLAGS = new Set([
  '--minutes',
  '--seconds',
  '--baseline',
  '--forwarders',
  '--clients',
  '--rounds',
  '--idle-seconds',
  '--builds',
]);
const args = process.argv.slice(2);
const wanted = args.filter((a, i) => !a.startsWith('-') && !VALUE_FLAGS.has(args[i - 1] ?? ''));
const names = wanted.length > 0 ? wanted : Object.keys(BENCHES);
const unknown = names.filter((n) => !(n in BENCHES));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}\n`,
  );
  process.exit(2);
}
const summary: Record<string, number | string> = {};
for (const name of names) {
  process.stdout.write(`\n== ${name}\n`);
  const load = BENCHES[name];
  if (!load) continue;
  const { run } = await load();
  const figures = await run();
  for (const [key, value] of Object.entries(figures)) summary[`${name}: ${key}`] = value;
}
printTable('Summary', summary);
