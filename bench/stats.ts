/** Percentile of a sample (nearest-rank); NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Prints `name  value` rows, aligned, under a title. */
export function printTable(title: string, rows: Record<string, number | string>): void {
  const width = Math.max(...Object.keys(rows).map((k) => k.length));
  process.stdout.write(`\n${title}\n`);
  for (const [key, value] of Object.entries(rows)) {
    const shown =
      typeof value === 'number'
        ? Number.isInteger(value)
          ? String(value)
          : value.toFixed(2)
        : value;
    process.stdout.write(`  ${key.padEnd(width)}  ${shown}\n`);
  }
}
