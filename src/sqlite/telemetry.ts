import type Database from 'better-sqlite3';

/** The `telemetry` table: one JSON document per run. */
export class TelemetryRepo {
  readonly #upsert: Database.Statement;
  readonly #read: Database.Statement;

  constructor(db: Database.Database) {
    this.#upsert = db.prepare(
      `INSERT INTO telemetry (run_id, telemetry_json, created_at, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (run_id) DO UPDATE SET telemetry_json = excluded.telemetry_json, updated_at = excluded.updated_at`,
    );
    this.#read = db.prepare('SELECT telemetry_json FROM telemetry WHERE run_id = ?').pluck();
  }

  write(runId: string, telemetry: Record<string, unknown>): void {
    const now = new Date().toISOString();
    this.#upsert.run(runId, JSON.stringify(telemetry), now, now);
  }

  read(runId: string): Record<string, unknown> | undefined {
    const json = this.#read.get(runId) as string | undefined;
    return json === undefined ? undefined : (JSON.parse(json) as Record<string, unknown>);
  }
}
