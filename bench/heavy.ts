/**
 * Issue 14.3 in one run: per-change cost against the number of sessions
 * (`scale-cost`) and first start against the number of project folders
 * (`folder-start`), each as a ratio that should be flat (cost) or linear
 * (start-up).
 */
export async function run(): Promise<Record<string, number>> {
  const cost = await (await import('./scale-cost.ts')).run();
  const start = await (await import('./folder-start.ts')).run();
  return { ...cost, ...start };
}
