import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A file of a fixture plan: path inside the plan folder, text, and mtime in seconds since epoch. */
export interface FixtureFile {
  path: string;
  text?: string;
  mtime?: number;
}

/** A PLAN file whose index lists `entries` (`[id, title]`). */
export function planText(name: string, entries: [string, string][]): string {
  return [
    `# PLAN: ${name}`,
    '',
    '## 📋 Achievement Index',
    '',
    ...entries.map(([id, title]) => `- Achievement ${id}: ${title}`),
    '',
    '## Achievements',
    '',
    ...entries.map(([id, title]) => `### Achievement ${id}: ${title}\n\nBody.\n`),
  ].join('\n');
}

/** Writes a plan folder under `plansDir`; returns its path. Used by tests on real temp folders. */
export function writePlan(plansDir: string, name: string, files: FixtureFile[]): string {
  const dir = join(plansDir, name);
  mkdirSync(dir, { recursive: true });
  for (const file of files) writeFixtureFile(dir, file);
  return dir;
}

export function writeFixtureFile(dir: string, file: FixtureFile): void {
  const path = join(dir, file.path);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, file.text ?? `# ${file.path}\n`);
  if (file.mtime !== undefined) utimesSync(path, file.mtime, file.mtime);
}

/** A temp folder removed by the returned cleanup. */
export function tempDir(prefix = 'livestream-plans-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A SUBPLAN as the plan-folder producer writes one: a header of bold
 * `**Field**: value` lines (trailing double spaces for markdown line breaks),
 * `**Estimated Effort**` among them in the forms real plans use ("2-3 hours",
 * "1.5 hours", "30 minutes", "3-4 hours (execution + monitoring)").
 */
export function subplanText(
  plan: string,
  achievement: string,
  title: string,
  effort: string,
): string {
  return [
    `# SUBPLAN: ${title} (Achievement ${achievement})`,
    '',
    `**Achievement**: ${achievement} - ${title}  `,
    `**Plan**: ${plan}  `,
    '**Type**: SUBPLAN  ',
    '**Status**: 📋 Ready for Execution  ',
    '**Created**: 2025-11-13  ',
    `**Estimated Effort**: ${effort}  `,
    '**Execution Strategy**: Single EXECUTION',
    '',
    '---',
    '',
    '## 🎯 Objective',
    '',
    `Deliver ${title.toLowerCase()}.`,
    '',
  ].join('\n');
}
