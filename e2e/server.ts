import { type ChildProcess, spawn } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS, runtimeEnv } from '../bin/runtime.mjs';

const REPO = fileURLToPath(new URL('..', import.meta.url));
/** The URL comes as soon as it listens; "Watching" once the roots are read. */
const READY = /Livestream listening on (http:\/\/[^\s]+)[\s\S]*\nWatching /;

/** A real `livestream serve` child process over a temp root, restartable on the same port. */
export class ServerProcess {
  child: ChildProcess | null = null;
  url = '';
  port = 0;
  output = '';

  /** Claude Code and Codex folders of this server (never the machine's own `~/.claude`). */
  readonly agentHome: string;

  private constructor(readonly root: string) {
    this.agentHome = `${root}.agents`;
  }

  static async start(): Promise<ServerProcess> {
    const root = await mkdtemp(join(tmpdir(), 'livestream-e2e-'));
    const server = new ServerProcess(root);
    await server.launch(0);
    return server;
  }

  /** Starts the server; resolves with its URL once it printed the ready line. */
  async launch(port: number): Promise<string> {
    const env = { ...process.env };
    delete env.LIVESTREAM_TOKEN;
    delete env.LIVESTREAM_PORT;
    const child = spawn(
      process.execPath,
      [
        ...NODE_FLAGS,
        'dist/cli.js',
        'serve',
        '--root',
        this.root,
        '--port',
        String(port),
        '--db',
        join(this.root, 'ls.db'),
        '--claude-dir',
        join(this.agentHome, 'claude'),
        '--codex-dir',
        join(this.agentHome, 'codex'),
      ],
      { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: runtimeEnv(env) },
    );
    this.child = child;
    this.url = await new Promise<string>((resolve, reject) => {
      let buffer = '';
      const onData = (chunk: Buffer) => {
        buffer += chunk.toString();
        this.output += chunk.toString();
        const match = READY.exec(buffer);
        if (match?.[1]) {
          child.stdout?.off('data', onData);
          resolve(match[1]);
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (c: Buffer) => {
        this.output += c.toString();
      });
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${this.output}`)));
    });
    this.port = Number(new URL(this.url).port);
    return this.url;
  }

  /** Stops the server (SIGTERM) and waits for the process to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
    this.child = null;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch(this.port);
  }

  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.root, { recursive: true, force: true });
    await rm(this.agentHome, { recursive: true, force: true });
  }

  /** Appends to a file under the agent home (`claude/projects/…`, `codex/sessions/…`). */
  async appendAgentFile(relative: string, text: string): Promise<void> {
    const path = join(this.agentHome, relative);
    await mkdir(dirname(path), { recursive: true });
    await appendFile(path, text);
  }

  /** Writes `<root>/<project>/.context-foundry/current-phase.json`. */
  async writePhase(project: string, doc: Record<string, unknown>): Promise<void> {
    await this.writeFile(
      join(project, '.context-foundry', 'current-phase.json'),
      JSON.stringify(doc),
    );
  }

  async writeFile(relative: string, text: string): Promise<void> {
    const path = join(this.root, relative);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  }
}

/** A current-phase.json document as orchestrators write it. */
export function phaseDoc(id: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    session_id: id,
    current_phase: 'Builder',
    phase_number: '4/7',
    status: 'in_progress',
    progress_detail: 'Implementing components',
    phases_completed: ['Codebase Analysis', 'Scout', 'Architect'],
    started_at: new Date(Date.now() - 600_000).toISOString(),
    last_updated: new Date().toISOString(),
    ...over,
  };
}
