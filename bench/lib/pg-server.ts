/**
 * The PostgreSQL server the peer benchmark runs against: scratch databases
 * of its own (dropped when done), and the CPU of the server's process tree
 * when the server runs on this machine.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { MS_PER_TICK, statField, statTicks } from './children';

/** How long `settle` waits for a database's server processes to exit. */
const SETTLE_MS = 5000;

export class BenchServer {
  private readonly created = new Set<string>();
  private readonly prefix = `bo_bench_${randomBytes(4).toString('hex')}`;

  private constructor(private readonly admin: Client, private readonly url: URL, private readonly postmaster: number | null) {}

  /** Connects to the maintenance database `url` (e.g. `postgres://postgres@127.0.0.1:5432/postgres`); throws when the server cannot be reached. */
  static async connect(url: string): Promise<BenchServer> {
    const admin = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    await admin.connect();
    const { rows } = await admin.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return new BenchServer(admin, new URL(url), localPostmaster(rows[0]?.pid ?? 0));
  }

  /** The URL of database `db` on this server. */
  urlOf(db: string): string {
    const u = new URL(this.url);
    u.pathname = `/${db}`;
    return u.toString();
  }

  /** Creates an empty database named after this run and `label`. */
  async createDb(label: string): Promise<string> {
    const name = `${this.prefix}_${label}`;
    await this.admin.query(`CREATE DATABASE ${name}`);
    this.created.add(name);
    return name;
  }

  async dropDb(name: string): Promise<void> {
    await this.admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    this.created.delete(name);
  }

  /** Runs one statement in `db` on a connection of its own; returns the first column of the first row. */
  async scalar(db: string, sql: string): Promise<unknown> {
    const c = new Client({ connectionString: this.urlOf(db) });
    await c.connect();
    try {
      const { rows } = await c.query<Record<string, unknown>>(sql);
      return Object.values(rows[0] ?? {})[0];
    } finally {
      await c.end();
    }
  }

  /**
   * CPU of the whole server (postmaster, its live children, and the children
   * it has reaped, which include every backend that has closed), in ms; null
   * when the server's processes are not visible here.
   */
  cpuMs(): number | null {
    const own = this.postmaster === null ? null : readStat(this.postmaster);
    if (own === null) return null;
    let ticks = statTicks(own, 14, 15, 16, 17);
    for (const pid of childrenOf(this.postmaster as number)) {
      const stat = readStat(pid); // null: exited since the listing, and counted in the postmaster's cutime
      if (stat !== null) ticks += statTicks(stat, 14, 15);
    }
    return ticks * MS_PER_TICK;
  }

  /**
   * Waits (at most 5 s) until no server process serves `db` and the
   * postmaster has reaped every exiting child: from the moment a backend
   * lets go of its memory (its title goes blank) until it is reaped, its
   * CPU shows nowhere.
   */
  async settle(db: string): Promise<void> {
    if (this.postmaster === null) return;
    const deadline = performance.now() + SETTLE_MS;
    const busy = () => childrenOf(this.postmaster as number).some((pid) => {
      const title = readCmdline(pid);
      return title.trim() === '' || title.includes(` ${db} `) || isZombie(pid);
    });
    while (busy() && performance.now() < deadline) await sleep(20);
  }

  /** Drops every database this run created and still has, and disconnects. */
  async close(): Promise<void> {
    try {
      for (const db of [...this.created]) await this.dropDb(db);
    } finally {
      await this.admin.end();
    }
  }
}

/** The postmaster of backend `pid` when it runs on this machine (its parent, named postgres), else null. */
function localPostmaster(pid: number): number | null {
  const stat = readStat(pid);
  if (stat === null || !stat.includes('(postgres)')) return null;
  const parent = statField(stat, 4);
  return readStat(parent)?.includes('(postgres)') === true ? parent : null;
}

function childrenOf(parent: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat !== null && statField(stat, 4) === parent) out.push(Number(name));
  }
  return out;
}

/** /proc/<pid>/stat, or null when the process is gone (or not visible). */
function readStat(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
}

function isZombie(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== null && stat.charAt(stat.lastIndexOf(')') + 2) === 'Z';
}

/** The process title (PostgreSQL writes "postgres: 15/main: user db host state"), or '' when gone. */
function readCmdline(pid: number): string {
  try {
    return `${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')} `;
  } catch {
    return '';
  }
}
