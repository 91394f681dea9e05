const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * True for a loopback address or name (what `--host` may be without a
 * token). On its own, without the server's plugins: every CLI command loads
 * `serve`'s options, and `forward` should not carry helmet and CORS.
 */
export function isLoopback(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}
