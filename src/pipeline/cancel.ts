import { CancelledError } from '../errors';

/**
 * Cancellation follows Node's convention: an aborted run rejects with an
 * error named `AbortError` whose `cause` is the signal's `reason`.
 */

/** Refuses to start when `signal` is already aborted: no file is opened and no run row written. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted !== true) return;
  throw new CancelledError(`The run was not started: its signal was already aborted${reasonText(signal)}`, { cause: signal.reason });
}

/** The error a run stopped by `signal` rejects with; its message becomes the run's notes. */
export function cancelledBy(signal: AbortSignal | undefined): CancelledError {
  return new CancelledError(`The run was cancelled${reasonText(signal)}`, { cause: signal?.reason });
}

/** Longest reason kept in the message (and so in the run's notes). */
const MAX_REASON_CHARS = 500;

/** `: <reason>` when the caller gave one (`ac.abort(reason)`, `AbortSignal.timeout()`); '' for `abort()`'s default. */
function reasonText(signal: AbortSignal | undefined): string {
  const r: unknown = signal?.reason;
  if (r === undefined || (r instanceof DOMException && r.name === 'AbortError')) return '';
  let text: string;
  if (typeof r === 'string') text = r;
  else if (r instanceof Error || r instanceof DOMException) text = r.name === 'Error' ? r.message : `${r.name}: ${r.message}`;
  else {
    try {
      text = JSON.stringify(r) ?? String(r);
    } catch {
      text = String(r);
    }
  }
  return `: ${text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS)}…` : text}`;
}
