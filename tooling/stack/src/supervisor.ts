/**
 * Keeps one service process running: spawns it, forwards its output line by line,
 * and when it exits without being asked to, starts it again after a backoff
 * (doubling from `minDelayMs` to `maxDelayMs`). A crash loop — `maxRestarts`
 * restarts in a row, each after less than `stableAfterMs` of running — gives up
 * with a message saying so. Every exit, restart and the giving up is reported
 * through `onNotice` in a sentence meant for the developer's terminal.
 *
 * One supervisor per process: the stack runs one per service instance, so N
 * messenger nodes are N supervisors.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { EventEmitter } from "node:events";

export interface ProcessSpec {
  /** Name in log prefixes and notices ("messenger", "messenger-2"). */
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface SupervisorOptions {
  /** Restarts in a row before giving up; 0 never restarts (the first exit gives up). */
  maxRestarts?: number;
  minDelayMs?: number;
  maxDelayMs?: number;
  /** A run at least this long before its exit starts the count of restarts afresh. */
  stableAfterMs?: number;
  /** Grace after SIGTERM on stop() before SIGKILL. */
  stopTimeoutMs?: number;
  /** Every non-empty line the process prints, on stdout or stderr. */
  onLine?: (name: string, line: string) => void;
  /** What the supervisor did and why, as a sentence. */
  onNotice?: (name: string, message: string) => void;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** How long this run lasted. */
  ranMs: number;
}

interface SupervisorEvents {
  spawn: [pid: number];
  exit: [ExitInfo];
  "gave-up": [ExitInfo];
}

export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly name: string;
  /** Restarts so far (all of them, not only those in a row). */
  restarts = 0;
  /** Set once the supervisor stopped restarting, after a crash loop. */
  gaveUp: ExitInfo | null = null;
  private child: ChildProcess | null = null;
  private inARow = 0;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly options: Required<Omit<SupervisorOptions, "onLine" | "onNotice">> & Pick<SupervisorOptions, "onLine" | "onNotice">;

  constructor(
    private readonly spec: ProcessSpec,
    options: SupervisorOptions = {},
  ) {
    super();
    this.name = spec.name;
    this.options = { maxRestarts: 5, minDelayMs: 500, maxDelayMs: 10_000, stableAfterMs: 30_000, stopTimeoutMs: 10_000, ...options };
    this.run();
  }

  /** The current process's pid; undefined between a crash and its restart. */
  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  /** True while a process is running. */
  get running(): boolean {
    return this.pid !== undefined;
  }

  /** Stops restarting and ends the current process (SIGTERM, then SIGKILL after the grace). */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => child.kill("SIGKILL"), this.options.stopTimeoutMs);
      child.once("exit", () => {
        clearTimeout(force);
        resolve();
      });
      child.kill("SIGTERM");
    });
  }

  private run() {
    const started = Date.now();
    // A failed spawn can report both 'error' and 'close': handle one exit per run.
    let ended = false;
    const end = (exit: ExitInfo) => {
      if (ended) return;
      ended = true;
      this.exited(exit);
    };
    const child = spawn(this.spec.command, this.spec.args, { cwd: this.spec.cwd, env: this.spec.env, stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) forwardLines(stream, (line) => this.options.onLine?.(this.name, line));
    child.once("spawn", () => this.emit("spawn", child.pid!));
    // 'error' is a spawn failure (no such command): treat it as an exit.
    child.once("error", (error) => {
      this.options.onNotice?.(this.name, `could not start: ${error.message}`);
      if (child.pid === undefined) end({ code: null, signal: null, ranMs: Date.now() - started });
    });
    // 'close', not 'exit': the process's last lines (a crash's stack) are printed before the notice.
    child.once("close", (code, signal) => end({ code, signal, ranMs: Date.now() - started }));
  }

  private exited(exit: ExitInfo) {
    this.emit("exit", exit);
    if (this.stopping || this.gaveUp) return;
    if (exit.ranMs >= this.options.stableAfterMs) this.inARow = 0;
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    if (this.inARow >= this.options.maxRestarts) {
      this.gaveUp = exit;
      this.options.onNotice?.(
        this.name,
        this.options.maxRestarts === 0
          ? `${how}; not restarting it (see its log above)`
          : `${how} again after ${this.inARow} restarts in a row; giving up on it (see its log above)`,
      );
      this.emit("gave-up", exit);
      return;
    }
    this.inARow++;
    this.restarts++;
    const delay = Math.min(this.options.maxDelayMs, this.options.minDelayMs * 2 ** (this.inARow - 1));
    this.options.onNotice?.(this.name, `${how} after ${formatSeconds(exit.ranMs)}; restarting in ${formatSeconds(delay)} (restart ${this.inARow} of ${this.options.maxRestarts} in a row)`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopping) this.run();
    }, delay);
  }
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function forwardLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void) {
  if (!stream) return;
  let buffered = "";
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) if (line.trim()) onLine(line);
  });
  stream.on("end", () => {
    if (buffered.trim()) onLine(buffered);
    buffered = "";
  });
}
