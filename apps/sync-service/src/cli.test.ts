import { describe, expect, it } from "vitest";
import { runCli } from "./cli.ts";
import { captureStream } from "./commands/command.test-helpers.ts";

async function cli(argv: string[], environment: NodeJS.ProcessEnv = {}) {
  const stdout = captureStream();
  const stderr = captureStream();
  const code = await runCli(argv, { environment, stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe("linq-sync", () => {
  it("lists every command in its help, exit code 0", async () => {
    for (const argv of [["--help"], ["help"]]) {
      const { code, stdout } = await cli(argv);
      expect(code).toBe(0);
      for (const command of ["serve", "subscribe", "doctor", "config", "dlq", "backfill"]) {
        expect(stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
      }
    }
    const backfill = await cli(["backfill", "--help"]);
    expect(backfill.code).toBe(0);
    expect(backfill.stdout).toContain("--since <date>");
    expect(backfill.stdout).toContain("With the embedded database (one process at a time)");
  });

  it("answers a usage error with exit code 2 and the reason on stderr", async () => {
    const unknown = await cli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const option = await cli(["doctor", "--verbose"]);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("unknown option '--verbose'");
    const group = await cli(["config"]);
    expect(group.code).toBe(2);
    expect(group.stderr).toContain("validate");
  });

  it("answers invalid settings with exit code 1, naming the variable but not a secret's value", async () => {
    const { code, stderr } = await cli(["subscribe"], {
      LINQ_API_TOKEN: "token with spaces-secret-value",
      PUBLIC_URL: "ftp://example.com",
    });
    expect(code).toBe(1);
    expect(stderr).toContain("LINQ_API_TOKEN: must contain only visible ASCII characters");
    expect(stderr).toContain("PUBLIC_URL: expected an http:// or https:// URL");
    expect(stderr).not.toContain("secret-value");
  });
});
