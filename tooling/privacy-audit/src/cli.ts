/**
 * `pnpm audit:privacy`: arguments, where the databases are, the progress bar and
 * the exit code. Databases: the flags, else MESSENGER_DATABASE_URL /
 * FACEBOOK_DATABASE_URL, else the running `pnpm dev` stack (.data/stack.json).
 */
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { findRunningStack } from "@handshake/stack";
import { runPrivacyAudit, type AuditProgress, type AuditReport } from "./audit";
import { formatReport } from "./format";

export const USAGE = `usage: pnpm audit:privacy [options]

Reads the messenger's and the Facebook side's databases and checks that nothing
was shared or used against the consent rules. Exit 0 when every check passes,
1 on any breach, 2 when it cannot run.

options:
  --messenger-database-url URL   default: MESSENGER_DATABASE_URL, else the running \`pnpm dev\` stack
  --messenger-shard-database-url URL
                                 with a shard map, each of the messenger's other databases (repeat
                                 the flag); their queues are searched too. Default: the running
                                 stack's (\`pnpm dev --shard-databases N\`), none otherwise
  --facebook-database-url URL    default: FACEBOOK_DATABASE_URL, else the running \`pnpm dev\` stack
  --json                         print the report as JSON instead of a table
  --examples N                   breaches shown per failed check (default 5)
  --ciphertext-sample N          queued ciphertexts fingerprinted (default 2000)
  --progress / --no-progress     progress bar on stderr (default: when stderr is a terminal)
  -h, --help
`;

export class UsageError extends Error {}

export interface AuditCommand {
  help: boolean;
  messengerUrl: string | undefined;
  /** Undefined: the running stack's, if any. */
  messengerShardUrls: string[] | undefined;
  facebookUrl: string | undefined;
  json: boolean;
  examples: number;
  ciphertextSample: number;
  progress: boolean | undefined;
}

function count(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name} must be a whole number, got "${value}"`);
  return n;
}

export function parseAuditArgs(argv: string[]): AuditCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        "messenger-database-url": { type: "string" },
        "messenger-shard-database-url": { type: "string", multiple: true },
        "facebook-database-url": { type: "string" },
        json: { type: "boolean", default: false },
        examples: { type: "string" },
        "ciphertext-sample": { type: "string" },
        progress: { type: "boolean" },
        "no-progress": { type: "boolean" },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: false,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const v = parsed.values;
  return {
    help: v.help ?? false,
    messengerUrl: v["messenger-database-url"],
    messengerShardUrls: v["messenger-shard-database-url"],
    facebookUrl: v["facebook-database-url"],
    json: v.json ?? false,
    examples: count(v.examples, "--examples", 5),
    ciphertextSample: count(v["ciphertext-sample"], "--ciphertext-sample", 2_000),
    progress: v["no-progress"] ? false : v.progress,
  };
}

/** Which database URLs to audit; throws a UsageError naming what is missing. */
export async function resolveDatabases(
  command: Pick<AuditCommand, "messengerUrl" | "facebookUrl"> & Partial<Pick<AuditCommand, "messengerShardUrls">>,
  env: { MESSENGER_DATABASE_URL?: string | undefined; FACEBOOK_DATABASE_URL?: string | undefined },
): Promise<{ messengerUrl: string; facebookUrl: string; messengerShardUrls: string[] }> {
  let messengerUrl = command.messengerUrl ?? env.MESSENGER_DATABASE_URL;
  let facebookUrl = command.facebookUrl ?? env.FACEBOOK_DATABASE_URL;
  let messengerShardUrls = command.messengerShardUrls;
  if (!messengerUrl || !facebookUrl || !messengerShardUrls) {
    const stack = await findRunningStack();
    const stackMessenger = stack?.services.messenger?.databaseUrl;
    // The stack's shard servers, when the messenger audited is the stack's (its home is among them).
    if (!messengerShardUrls && (messengerUrl ?? stackMessenger) === stackMessenger) {
      messengerShardUrls = (stack?.shards?.databases ?? []).filter((url) => url !== stackMessenger);
    }
    messengerUrl ??= stackMessenger;
    facebookUrl ??= stack?.services.facebook?.databaseUrl;
  }
  const missing = [
    ...(messengerUrl ? [] : ["messenger (--messenger-database-url or MESSENGER_DATABASE_URL)"]),
    ...(facebookUrl ? [] : ["facebook (--facebook-database-url or FACEBOOK_DATABASE_URL)"]),
  ];
  if (!messengerUrl || !facebookUrl) {
    throw new UsageError(`no database for ${missing.join(" and ")}: start the stack with \`pnpm dev\`, or name them`);
  }
  return { messengerUrl, facebookUrl, messengerShardUrls: messengerShardUrls ?? [] };
}

/** A progress bar on stderr, one per phase; a no-op when disabled. */
function progressBar(enabled: boolean): { onProgress: (p: AuditProgress) => void; stop: () => void } {
  if (!enabled) return { onProgress: () => {}, stop: () => {} };
  let bar: cliProgress.SingleBar | null = null;
  let phase: string | null = null;
  const stop = () => {
    bar?.stop();
    bar = null;
  };
  return {
    onProgress(p) {
      if (p.phase !== phase) {
        stop();
        phase = p.phase;
        bar = new cliProgress.SingleBar(
          {
            format: `${p.phase.padEnd(30)} [{bar}] {percentage}% {value}/{total}`,
            stream: process.stderr,
            fps: 5,
            noTTYOutput: true,
            notTTYSchedule: 2000,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(Math.max(p.total, p.done), p.done);
      }
      if (p.total > (bar?.getTotal() ?? 0)) bar?.setTotal(p.total);
      bar?.update(p.done);
    },
    stop,
  };
}

/** Runs the audit and prints the report; returns the exit code (0 pass, 1 breach). */
export async function runAuditCommand(
  command: AuditCommand,
  urls: { messengerUrl: string; facebookUrl: string; messengerShardUrls?: string[] },
  io: { stdout: (text: string) => void; stderrIsTTY: boolean },
): Promise<number> {
  const bar = progressBar(command.progress ?? io.stderrIsTTY);
  let report: AuditReport;
  try {
    report = await runPrivacyAudit({
      ...urls,
      exampleLimit: command.examples,
      ciphertextSample: command.ciphertextSample,
      onProgress: bar.onProgress,
    });
  } finally {
    bar.stop();
  }
  io.stdout(command.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.breaches === 0 ? 0 : 1;
}
