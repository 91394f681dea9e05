import { type AppConfig, defaultWebDir } from '../../src/config.ts';

/**
 * A test server's configuration: loopback on a port the kernel picks, no
 * token, 30 days of history at `dbPath`, the roots given; `over` on top
 * (`agents: null` to follow no transcripts, a `webDir` of its own, …).
 */
export function testConfig(
  roots: string[],
  dbPath: string,
  over: Partial<AppConfig> = {},
): AppConfig {
  return {
    roots,
    port: 0,
    host: '127.0.0.1',
    dbPath,
    retentionDays: 30,
    token: null,
    allowedOrigins: [],
    pollMs: null,
    tokenBudget: 200_000,
    webDir: defaultWebDir(),
    ...over,
  };
}
