/**
 * Debian's chromium (`/usr/bin/chromium`) driven by playwright-core, which never downloads a
 * browser. Tests that need it fail, never skip, when it is missing.
 */
import { accessSync, constants } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Added to playwright-core's own switches (which already include `--disable-background-networking`,
 * `--disable-component-update`, `--disable-sync`, `--no-first-run`, ...; repeated here so the
 * guarantee does not depend on its version). Not `--disable-features`: the last one given wins, so
 * it would replace playwright's list.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  // New headless mode, the only one Chromium ships since 132; no display needed.
  '--headless=new',
  // Root in a container: Chromium refuses to start sandboxed as root.
  '--no-sandbox',
  // No GPU in the container: use the software path straight away instead of probing.
  '--disable-gpu',
  // /dev/shm is small in containers; shared memory in /tmp instead, so renderers do not crash.
  '--disable-dev-shm-usage',
  // Nothing leaves the machine: no background, update, sync, crash, ping or safe-browsing traffic
  // (Debian's wrapper exports Google API keys, which would otherwise enable some of it)...
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-domain-reliability',
  '--disable-client-side-phishing-detection',
  '--disable-breakpad',
  '--no-pings',
  '--no-default-browser-check',
  '--no-first-run',
  '--metrics-recording-only',
  // ...no proxy from the environment, and every host name but the loopback address unresolvable.
  '--no-proxy-server',
  '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
];

/** Launches headless Chromium, or throws saying how to install it. */
export async function launchChromium(): Promise<Browser> {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
  } catch {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}; the browser tests need it. Install it with ` +
        '`bash scripts/install-deps.sh --browser` (Debian package chromium; needs root or sudo).',
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
    // A cold start on a busy two-core machine can take several seconds.
    timeout: 60_000,
  });
}
