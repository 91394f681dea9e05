// A process that takes the plans lock, for the lock tests. Usage:
//   node --import tsx test/helpers/lock-child.ts DIR hold|try|throw
// hold: take the lock, print "locked", wait for a signal; try: print the
// outcome and exit (releasing); throw: take the lock and die of an uncaught error.
import { PlansLock, releaseOnSignals } from '../../src/sources/plans/lock.ts';

const [dir, mode] = process.argv.slice(2);
const result = await PlansLock.acquire(dir as string);
if (!result.acquired) {
  process.stdout.write(`busy ${result.owner?.pid ?? 'unknown'}\n`);
  process.exit(0);
}
releaseOnSignals(result.lock);
if (mode === 'throw') throw new Error('boom');
if (mode === 'try') {
  process.stdout.write('locked\n');
  // Hold briefly so racing siblings meet a live owner, then exit normally.
  setTimeout(() => process.exit(0), 1500);
} else {
  process.stdout.write('locked\n');
  setInterval(() => undefined, 60_000);
}
