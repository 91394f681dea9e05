/**
 * Debian's Chromium, never a downloaded browser. Without the networking flags
 * it tries to reach Google's services at every start, which this machine's
 * closed network refuses many times over.
 */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
