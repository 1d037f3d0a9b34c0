/**
 * The host's `MappingStore`: id mappings and cursors in the service's database. The primary key
 * (kind, linq_id) and the unique (kind, external_id) make a duplicate mapping impossible, so two
 * workers racing to link the same Linq chat end up with one Slack thread mapping, not two.
 */
import type { Mapping, MappingStore } from "@linq-connect/core";
import { NotFoundError } from "@linq-connect/core";
import type { Database } from "../database/database-types.ts";
import { toDate, toJsonParameter } from "./json.ts";

interface MappingRow extends Record<string, unknown> {
  kind: string;
  linq_id: string;
  external_id: string;
  metadata: Record<string, unknown> | null;
  updated_at: Date | string;
}

const mappingColumns = "kind, linq_id, external_id, metadata, updated_at";

/** The prefix `withLock` adds, so connector locks never collide with the host's own lock keys. */
export const mappingLockPrefix = "mapping:";

function toMapping(row: MappingRow): Mapping {
  return {
    kind: row.kind,
    linqId: row.linq_id,
    externalId: row.external_id,
    metadata: row.metadata ?? {},
    updatedAt: toDate(row.updated_at),
  };
}

export function createMappingStore(database: Database): MappingStore {
  const findByLinqId = async (kind: string, linqId: string): Promise<Mapping | undefined> => {
    const { rows } = await database.query<MappingRow>(
      `SELECT ${mappingColumns} FROM mappings WHERE kind = $1 AND linq_id = $2`,
      [kind, linqId],
    );
    return rows[0] === undefined ? undefined : toMapping(rows[0]);
  };

  return {
    findByLinqId,

    async findByExternalId(kind, externalId) {
      const { rows } = await database.query<MappingRow>(
        `SELECT ${mappingColumns} FROM mappings WHERE kind = $1 AND external_id = $2`,
        [kind, externalId],
      );
      return rows[0] === undefined ? undefined : toMapping(rows[0]);
    },

    async insertMapping(mapping) {
      const metadata = toJsonParameter(mapping.metadata ?? {});
      // A row deleted between the conflict and the read sends us round again; more than a few rounds
      // would mean a writer deleting in a loop, which is a bug worth surfacing.
      for (let attempt = 0; attempt < 5; attempt += 1) {
        const inserted = await database.query<MappingRow>(
          `INSERT INTO mappings (kind, linq_id, external_id, metadata)
           VALUES ($1, $2, $3, $4::jsonb)
           ON CONFLICT DO NOTHING
           RETURNING ${mappingColumns}`,
          [mapping.kind, mapping.linqId, mapping.externalId, metadata],
        );
        if (inserted.rows[0] !== undefined) return toMapping(inserted.rows[0]);
        // ON CONFLICT waited for the competing transaction to commit, so its row is visible to this
        // next statement. The mapping of this Linq id wins over one that merely shares the external id.
        const existing = await database.query<MappingRow>(
          `SELECT ${mappingColumns} FROM mappings
           WHERE kind = $1 AND (linq_id = $2 OR external_id = $3)
           ORDER BY (linq_id = $2) DESC
           LIMIT 1`,
          [mapping.kind, mapping.linqId, mapping.externalId],
        );
        if (existing.rows[0] !== undefined) return toMapping(existing.rows[0]);
      }
      throw new Error(
        `Could not insert nor read the ${mapping.kind} mapping of ${mapping.linqId}: it was deleted repeatedly meanwhile`,
      );
    },

    async updateMetadata(kind, linqId, metadata) {
      const result = await database.query(
        `UPDATE mappings SET metadata = metadata || $3::jsonb, updated_at = now()
         WHERE kind = $1 AND linq_id = $2`,
        [kind, linqId, toJsonParameter(metadata)],
      );
      if (result.rowCount === 0) {
        throw new NotFoundError(`There is no ${kind} mapping for ${linqId} to update`, {
          source: "internal",
        });
      }
    },

    async deleteMapping(kind, linqId) {
      await database.query("DELETE FROM mappings WHERE kind = $1 AND linq_id = $2", [kind, linqId]);
    },

    async getCursor(name) {
      const { rows } = await database.query<{ value: string }>("SELECT value FROM cursors WHERE name = $1", [
        name,
      ]);
      return rows[0]?.value;
    },

    async setCursor(name, value) {
      await database.query(
        `INSERT INTO cursors (name, value) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
        [name, value],
      );
    },

    withLock(key, work) {
      return database.withLock(`${mappingLockPrefix}${key}`, work);
    },
  };
}
