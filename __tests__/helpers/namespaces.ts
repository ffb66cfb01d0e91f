import { spawnSync } from 'node:child_process';

/**
 * Some failures need what a container has: a small or read-only file system
 * (a full temp folder), a PID namespace (node is PID 1 again after a
 * restart). A new user namespace (`unshare -r`) gives a test its own mounts
 * and PIDs without privileges, on machines that allow unprivileged user
 * namespaces; where that is not possible these tests are skipped, and say so.
 */
const works = (args: string[]) => process.platform === 'linux' && spawnSync('unshare', args, { stdio: 'ignore' }).status === 0;

export const mountNamespaces: boolean = works(['-r', '-m', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs /mnt']);
export const pidNamespaces: boolean = works(['-r', '-p', '-f', '--mount-proc', '--kill-child', 'true']);

/** `wrap` for `runCli`: runs `setup` (sh, as root of a fresh mount namespace), then the CLI. */
export function inMountNamespace(setup: string): string[] {
  return ['unshare', '-r', '-m', 'sh', '-c', `set -e\n${setup}\nexec "$@"`, 'sh'];
}

/** A command prefix that runs the next one as PID 1 of a fresh PID namespace (killed with its `unshare`). */
export const inPidNamespace: string[] = ['unshare', '-r', '-p', '-f', '--mount-proc', '--kill-child'];
