/**
 * How a run rides out a lost connection or a restarting server: each failed
 * attempt waits a capped exponential back-off (0.1 s, 0.2 s, ... 5 s) and
 * tries again, until the outage has lasted `maxMs`; then the run gives up
 * with the outage's first cause. Any success ends the outage. What counts as
 * transient is the backend's to say (a SQLite file has no connection to lose).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BrandOrchestratorError, StoreError, toError } from '../errors';

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 5000;

export class Outage {
  #since: number | undefined;
  #first: Error | undefined;
  #tries = 0;
  /** Back-offs waited, over the whole run. */
  waits = 0;

  constructor(readonly maxMs: number, readonly isTransient: (err: unknown) => boolean) {}

  /** After a failure: true once the back-off is waited (try again), false when it is not transient or the outage has lasted `maxMs`. */
  async retry(err: unknown): Promise<boolean> {
    if (!this.isTransient(err)) return false;
    const now = performance.now();
    this.#since ??= now;
    this.#first ??= toError(err);
    const left = this.maxMs - (now - this.#since);
    if (left <= 0) return false;
    await sleep(Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** this.#tries++, left));
    this.waits++;
    return true;
  }

  /** A query or a chunk went through: the outage, if any, is over. */
  ok(): void {
    this.#since = undefined;
    this.#first = undefined;
    this.#tries = 0;
  }

  /** The error to give up with: the outage's first cause, saying how long it was retried; `err` itself when there was no outage. */
  givenUp(err: unknown): BrandOrchestratorError {
    const first = this.#first;
    if (first === undefined || this.#since === undefined) return asCoded(err);
    const code = (first as { code?: unknown }).code;
    const seconds = Math.round((performance.now() - this.#since) / 100) / 10;
    return new StoreError(typeof code === 'string' && code.startsWith('ERR_') ? code as 'ERR_DB' : 'ERR_DB_CONNECTION_LOST',
      `${first.message} (retried with back-off for ${seconds} s, up to maxOutageMs ${this.maxMs}; the run can be resumed once the server is back)`, { cause: first });
  }
}

function asCoded(err: unknown): BrandOrchestratorError {
  const e = toError(err);
  return e instanceof BrandOrchestratorError ? e : new StoreError('ERR_DB', e.message, { cause: e });
}
