import { spawnSync } from 'node:child_process';

/**
 * Some failures (a full or read-only temp folder) need a small or read-only
 * file system. A new user and mount namespace (`unshare -r -m`) gives the
 * test its own mounts, without privileges on machines that allow
 * unprivileged user namespaces; where that is not possible these tests are
 * skipped, and say so.
 */
export const mountNamespaces: boolean = process.platform === 'linux'
  && spawnSync('unshare', ['-r', '-m', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs /mnt'], { stdio: 'ignore' }).status === 0;

/** `wrap` for `runCli`: runs `setup` (sh, as root of a fresh mount namespace), then the CLI. */
export function inMountNamespace(setup: string): string[] {
  return ['unshare', '-r', '-m', 'sh', '-c', `set -e\n${setup}\nexec "$@"`, 'sh'];
}
