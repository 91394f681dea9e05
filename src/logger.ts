import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export type LogFormat = 'pretty' | 'json';

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};
const OMIT = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'v']);

/** One readable line per record: `12:00:01 warn  message key=value`. */
function prettyStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.length === 0) continue;
        try {
          const record = JSON.parse(line) as Record<string, unknown>;
          const time = new Date(Number(record.time)).toTimeString().slice(0, 8);
          const level = (LEVELS[Number(record.level)] ?? 'info').padEnd(5);
          const extras = Object.entries(record)
            .filter(([key]) => !OMIT.has(key))
            .map(
              ([key, value]) =>
                `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`,
            )
            .join(' ');
          out.write(`${time} ${level} ${String(record.msg ?? '')}${extras ? ` ${extras}` : ''}\n`);
        } catch {
          out.write(`${line}\n`);
        }
      }
      done();
    },
  });
}

/**
 * The process logger. Logs go to stderr so stdout stays for command output
 * (`status --json`, `plans --json`); pretty on a terminal, JSON otherwise.
 */
export function createLogger(options: { level?: string; format?: LogFormat } = {}): Logger {
  const format = options.format ?? (process.stderr.isTTY ? 'pretty' : 'json');
  const level = options.level ?? process.env.LIVESTREAM_LOG_LEVEL ?? 'info';
  const destination = format === 'pretty' ? prettyStream(process.stderr) : pino.destination(2);
  return pino({ level, base: undefined }, destination);
}
