/** A file change seen by the root watcher. */
export interface FileEvent {
  kind: 'add' | 'change' | 'unlink';
  /** Absolute path. */
  path: string;
  /** The watched root the path is under. */
  root: string;
  /** Size and mtime when the file still exists. */
  stats?: { size: number; mtimeMs: number };
}

/**
 * A consumer of file events. The one watcher over the roots routes each
 * event to every handler whose `match` accepts the path (relative to its root,
 * with `/` separators).
 */
export interface FileHandler {
  readonly name: string;
  match(relPath: string): boolean;
  handle(event: FileEvent): void | Promise<void>;
}
