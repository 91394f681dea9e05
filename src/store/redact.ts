/** A server URL without its password, for messages and logs (secrets are never logged). */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return `${url.split(':')[0]}://…`;
  }
}
