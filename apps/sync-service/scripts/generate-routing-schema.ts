// Writes the JSON Schema of the routing file (linq-sync.schema.json) for editors,
// from the zod schema in src/config/routing.ts, formatted by the repository's Biome
// so that \`biome check\` accepts it. --check compares the JSON, not the formatting.
//
//   node scripts/generate-routing-schema.ts          write linq-sync.schema.json
//   node scripts/generate-routing-schema.ts --check  exit 1 when the committed file is stale
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { routingJsonSchema } from "../src/config/routing.ts";

const appRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const schemaPath = join(appRoot, "linq-sync.schema.json");
const schema = routingJsonSchema();

if (process.argv.includes("--check")) {
  let committed: unknown;
  try {
    committed = JSON.parse(readFileSync(schemaPath, "utf8"));
  } catch (error) {
    process.stderr.write(`linq-sync.schema.json cannot be read: ${String(error)}\n`);
    process.exit(1);
  }
  if (!isDeepStrictEqual(committed, schema)) {
    process.stderr.write(
      "linq-sync.schema.json is stale: run `node scripts/generate-routing-schema.ts` in apps/sync-service\n",
    );
    process.exit(1);
  }
  process.stdout.write("linq-sync.schema.json is up to date\n");
} else {
  writeFileSync(schemaPath, formatWithBiome(`${JSON.stringify(schema, null, 2)}\n`));
  process.stdout.write(`wrote ${schemaPath}\n`);
}

/** The text as the repository's Biome formats it; unchanged when Biome is not installed. */
function formatWithBiome(text: string): string {
  const biome = join(appRoot, "..", "..", "node_modules", ".bin", "biome");
  if (!existsSync(biome)) return text;
  const result = spawnSync(biome, ["format", `--stdin-file-path=${schemaPath}`], {
    input: text,
    encoding: "utf8",
  });
  if (result.status !== 0 || result.stdout === "") {
    process.stderr.write(`biome format failed, writing unformatted JSON: ${result.stderr}\n`);
    return text;
  }
  return result.stdout;
}
