import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import {
  type AttentionThresholds,
  DEFAULT_THRESHOLDS,
  parseAttentionConfig,
} from './core/attention/index.ts';
import type { SessionStatus } from './shared/model.ts';

/** The per-project config file, in the project folder (beside `.context-foundry/`). */
export const PROJECT_CONFIG_FILE = '.livestream.json';

/** How often a project's file is looked at again for changes. */
const RECHECK_MS = 5_000;

interface Cached {
  checkedAt: number;
  mtimeMs: number | null;
  thresholds: AttentionThresholds;
}

/**
 * The attention thresholds of each session: the built-in defaults, then the
 * server's file (`serve --attention-config FILE`), then the project's
 * `.livestream.json`. A bad file is reported once per change and ignored
 * (the layers under it stay in force).
 */
export class AttentionConfig {
  readonly #base: AttentionThresholds;
  readonly #log: Logger;
  readonly #cache = new Map<string, Cached>();
  readonly #now: () => number;

  constructor(opts: { file?: string | null; logger: Logger; now?: () => number }) {
    this.#log = opts.logger;
    this.#now = opts.now ?? Date.now;
    this.#base = { ...DEFAULT_THRESHOLDS };
    if (opts.file) {
      const text = readFileSync(opts.file, 'utf8');
      const parsed = parseAttentionConfig(text);
      if (parsed.error) throw new Error(`attention config ${opts.file}: ${parsed.error}`);
      this.#base = parsed.thresholds;
    }
  }

  /** The server-wide thresholds (defaults with `--attention-config` applied). */
  get base(): Readonly<AttentionThresholds> {
    return this.#base;
  }

  thresholdsFor(status: Pick<SessionStatus, 'projectDir'>): AttentionThresholds {
    const dir = status.projectDir;
    if (!dir) return this.#base;
    const now = this.#now();
    const cached = this.#cache.get(dir);
    if (cached && now - cached.checkedAt < RECHECK_MS) return cached.thresholds;
    const path = join(dir, PROJECT_CONFIG_FILE);
    let mtimeMs: number | null = null;
    try {
      mtimeMs = statSync(path).mtimeMs;
    } catch {
      mtimeMs = null;
    }
    if (cached && cached.mtimeMs === mtimeMs) {
      cached.checkedAt = now;
      return cached.thresholds;
    }
    let thresholds = this.#base;
    if (mtimeMs !== null) {
      try {
        const parsed = parseAttentionConfig(readFileSync(path, 'utf8'), this.#base);
        if (parsed.error)
          this.#log.warn({ file: path }, `attention config ignored: ${parsed.error}`);
        thresholds = parsed.thresholds;
      } catch (error) {
        this.#log.warn(
          { file: path, err: (error as Error).message },
          'attention config unreadable',
        );
      }
    }
    this.#cache.set(dir, { checkedAt: now, mtimeMs, thresholds });
    return thresholds;
  }
}
