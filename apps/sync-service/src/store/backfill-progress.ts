/**
 * Where a long run (a backfill) got to, so an interrupted run resumes instead of starting again.
 * The state is the run's own JSON; the store only keeps the latest one per name.
 */
import type { Database } from "../database/database-types.ts";
import { toDate, toJsonParameter } from "./json.ts";

export interface BackfillProgress<State> {
  state: State;
  updatedAt: Date;
}

export interface BackfillProgressStore {
  loadProgress<State = unknown>(name: string): Promise<BackfillProgress<State> | undefined>;
  saveProgress(name: string, state: unknown): Promise<void>;
  /** Forgets the run (it finished, or the user asked to start over); true when there was one. */
  clearProgress(name: string): Promise<boolean>;
  listProgress(): Promise<Array<{ name: string } & BackfillProgress<unknown>>>;
}

export function createBackfillProgressStore(database: Database): BackfillProgressStore {
  return {
    async loadProgress<State>(name: string) {
      const { rows } = await database.query<{ state: State; updated_at: Date | string }>(
        "SELECT state, updated_at FROM backfill_progress WHERE name = $1",
        [name],
      );
      const row = rows[0];
      return row === undefined ? undefined : { state: row.state, updatedAt: toDate(row.updated_at) };
    },

    async saveProgress(name, state) {
      await database.query(
        `INSERT INTO backfill_progress (name, state) VALUES ($1, $2::jsonb)
         ON CONFLICT (name) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
        [name, toJsonParameter(state)],
      );
    },

    async clearProgress(name) {
      const result = await database.query("DELETE FROM backfill_progress WHERE name = $1", [name]);
      return result.rowCount > 0;
    },

    async listProgress() {
      const { rows } = await database.query<{ name: string; state: unknown; updated_at: Date | string }>(
        "SELECT name, state, updated_at FROM backfill_progress ORDER BY name",
      );
      return rows.map((row) => ({ name: row.name, state: row.state, updatedAt: toDate(row.updated_at) }));
    },
  };
}
