// Sums the vitest JSON reports that `scripts/test-all.sh` asks every package to write
// and prints one closing line: "tests: N passed, N failed, N skipped".
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const group of ["packages", "apps"]) {
  if (!existsSync(group)) continue;
  for (const name of readdirSync(group)) {
    const directory = join(group, name);
    if (!existsSync(join(directory, "package.json"))) continue;
    const report = join(directory, "test-results", "vitest.json");
    if (!existsSync(report)) {
      missing.push(directory);
      continue;
    }
    const result = JSON.parse(readFileSync(report, "utf8"));
    passed += result.numPassedTests ?? 0;
    // A file that failed without a failing test (it did not load, a hook threw) counts as one failure.
    const brokenFiles = (result.testResults ?? []).filter(
      (file) =>
        file.status === "failed" &&
        !(file.assertionResults ?? []).some((assertion) => assertion.status === "failed"),
    ).length;
    failed += (result.numFailedTests ?? 0) + brokenFiles;
    skipped += (result.numPendingTests ?? 0) + (result.numTodoTests ?? 0);
    console.log(
      `${directory}: ${result.numPassedTests} passed, ${(result.numFailedTests ?? 0) + brokenFiles} failed, ${result.numPendingTests} skipped`,
    );
  }
}
if (missing.length > 0) console.log(`no test report from: ${missing.join(", ")}`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || missing.length > 0 || passed === 0 ? 1 : 0);
