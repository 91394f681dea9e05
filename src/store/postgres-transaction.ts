import pg from 'pg';
import type { PgTransactor, PgWrite } from './postgres-queue.ts';

/** node-postgres's own value conversion (the default export has it; its types do not say so). */
const { prepareValue } = (pg as unknown as { utils: { prepareValue(value: unknown): unknown } })
  .utils;

/** A statement as the write queue holds it: text with `$n` placeholders and their values. */
export interface Statement {
  text: string;
  values: readonly unknown[];
}

/**
 * One write transaction as a single simple query (`BEGIN; …; COMMIT`), the
 * values written in as literals: one round trip instead of one per statement.
 * Under a fleet's load a batch of twenty forwarders' writes is a hundred
 * statements, and their round trips were most of an acknowledgement's time.
 *
 * Each value goes through node-postgres's `prepareValue` (what it sends for
 * a parameter: arrays as array literals, Buffers as bytea, objects as JSON)
 * and `escapeLiteral`, and lands as a quoted literal of unknown type, which
 * PostgreSQL types from its context exactly as it types a parameter sent as
 * text (what node-postgres does). Null when a value cannot be written so: a
 * NUL character ends a simple query's text (the caller then sends the
 * statements one by one, as parameters).
 */
export function inlineTransaction(statements: readonly Statement[]): string | null {
  const parts = ['BEGIN'];
  for (const s of statements) {
    const literals: string[] = [];
    for (const value of s.values) {
      const literal = toLiteral(value);
      if (literal === null) return null;
      literals.push(literal);
    }
    let missing = false;
    parts.push(
      s.text.replace(/\$(\d+)/g, (_, n: string) => {
        const literal = literals[Number(n) - 1];
        if (literal === undefined) missing = true;
        return literal ?? '';
      }),
    );
    if (missing) return null;
  }
  parts.push('COMMIT');
  return parts.join(';\n');
}

function toLiteral(value: unknown): string | null {
  const prepared = prepareValue(value);
  if (prepared === null || prepared === undefined) return 'NULL';
  const text = Buffer.isBuffer(prepared) ? `\\x${prepared.toString('hex')}` : String(prepared);
  if (text.includes('\u0000')) return null;
  return pg.escapeLiteral(text);
}

/** SQLSTATE classes of a server that is away or refusing, not of bad data. */
const ENVIRONMENTAL_CLASSES = ['08', '53', '57', '58', 'XX'];

/** True for errors from PostgreSQL being down, restarting or out of resources. */
export function isPgEnvironmental(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return true;
  if (/^E[A-Z]+$/.test(code)) return true;
  return ENVIRONMENTAL_CLASSES.some((c) => code.startsWith(c));
}

/** The write queue's transactions on `pool`: one connection each, returned broken when the server failed. */
export function poolTransactor(pool: pg.Pool): PgTransactor {
  return { run: (writes, isolate) => runTransaction(pool, writes, isolate) };
}

async function runTransaction(
  pool: pg.Pool,
  writes: readonly PgWrite[],
  isolate: boolean,
): Promise<{ dropped: number[] }> {
  const client = await pool.connect();
  const dropped: number[] = [];
  let broken: Error | undefined;
  try {
    // One round trip for the whole transaction; per statement only to find a bad write.
    const whole = isolate ? null : inlineTransaction(writes.flatMap((w) => w.statements));
    if (whole !== null) {
      await client.query(whole);
      return { dropped };
    }
    await client.query('BEGIN');
    for (const [i, write] of writes.entries()) {
      if (isolate) await client.query('SAVEPOINT w');
      try {
        for (const s of write.statements) await client.query(s.text, s.values as unknown[]);
        if (isolate) {
          // Deferred keys are checked here, so a write that breaks one is dropped alone.
          await client.query('SET CONSTRAINTS ALL IMMEDIATE');
          await client.query('SET CONSTRAINTS ALL DEFERRED');
          await client.query('RELEASE SAVEPOINT w');
        }
      } catch (error) {
        if (!isolate || isPgEnvironmental(error)) throw error;
        await client.query('ROLLBACK TO SAVEPOINT w');
        dropped.push(i);
      }
    }
    await client.query('COMMIT');
    return { dropped };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    // A connection that failed is dropped, not handed out again.
    broken = isPgEnvironmental(error) ? (error as Error) : undefined;
    throw error;
  } finally {
    client.release(broken);
  }
}
