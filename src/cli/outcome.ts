import type { RunSummary } from '../pipeline/types';

/**
 * What follows a run's summary on stderr: its warnings (a failed final
 * checkpoint, an end that could not be recorded), and how to resume a run
 * that did not complete, whatever stopped it (`errorCode`: the run's error).
 */
export function outcomeLines(s: RunSummary, errorCode?: string): string[] {
  const lines = (s.warnings ?? []).map((w) => `  warning: ${w}`);
  // A run taken over belongs to another process now: not this one's to resume.
  if (s.status !== 'completed' && errorCode !== 'ERR_RUN_TAKEN_OVER') lines.push(`  resume with: brand-orchestrator ingest <file> --resume ${s.runId}`);
  return lines;
}

/** Whether the summary must be printed even with `--quiet`. */
export function mustReport(s: RunSummary, failed: boolean): boolean {
  return failed || s.status !== 'completed' || s.warnings !== undefined;
}
