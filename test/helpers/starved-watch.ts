// A tree watch started with no file descriptor left, for the watcher's
// EMFILE tests. Usage: node --import tsx test/helpers/starved-watch.ts ROOT
// Takes every free descriptor (/dev/null handles), starts a TreeWatch on
// ROOT and prints one JSON line per report ({"kind","rel"}, {"error"},
// {"recovered"}); the line "release" on stdin frees the descriptors.
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { TreeWatch } from '../../src/sources/tree-watch.ts';

const root = process.argv[2] as string;
const say = (value: object) => process.stdout.write(`${JSON.stringify(value)}\n`);
const lines = createInterface({ input: process.stdin });
const held: number[] = [];
const fill = () => {
  for (;;) {
    try {
      held.push(openSync('/dev/null', 'r'));
    } catch {
      return;
    }
  }
};
// Again after a while: descriptors the loader still held get closed meanwhile.
for (let i = 0; i < 5; i++) {
  fill();
  await new Promise((done) => setTimeout(done, 20));
}
fill();
const tree = new TreeWatch({
  root,
  depth: 20,
  ignore: () => false,
  retryMs: 50,
  onFile: (kind, path) => say({ kind, rel: path.slice(root.length + 1) }),
  onRootGone: () => say({ rootGone: true }),
  onError: (error, _path, retrying) => say({ error: error.code, retrying }),
  onRecovered: (count) => say({ recovered: count }),
});
await tree.start();
say({ started: true, held: held.length });
lines.on('line', (line) => {
  if (line !== 'release') return;
  for (const fd of held.splice(0)) closeSync(fd);
  say({ released: true });
});
process.once('SIGTERM', () => {
  tree.close();
  lines.close();
});
