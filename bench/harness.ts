// The process machinery shared by the benchmark runners (bench/run.ts, bench/hotpath.ts, bench/cluster.ts): finding
// the runtimes, child processes speaking the line protocol of bench/common.ts and bench/load.ts, one measured
// window with CPU time read from /proc, the machine's CPU use meanwhile, and what the machine is.
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import process from "node:process";
import type { LoadConfig } from "./load.ts";

export const ROOT: string = new URL("..", import.meta.url).pathname;
// Both runtimes run here: the ones `npm run setup` put in tools/, else those on PATH.
export const BIN = {
  deno: findRuntime("deno"),
  bun: findRuntime("bun"),
} as const;
export type Runtime = keyof typeof BIN;

const env = process.env;

function findRuntime(name: "deno" | "bun"): string {
  const local = `${ROOT}tools/node_modules/.bin/${name}`;
  if (existsSync(local)) return local;
  const found = spawnSync(name, ["--version"], { stdio: "ignore" });
  if (found.status === 0) return name;
  console.error(
    `bench: ${name} is needed and was found neither in tools/node_modules nor on PATH: run npm run setup`,
  );
  process.exit(2);
}

export const RAISE_NOFILE = 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"';

/** A child speaking the line protocol of bench/common.ts and bench/load.ts. */
export class Child {
  proc: ChildProcess;
  #buf = "";
  #lines: string[] = [];
  #waiters: {
    prefix: string;
    resolve: (s: string) => void;
    reject: (e: Error) => void;
  }[] = [];
  exited: Promise<number | null>;
  stderr = "";

  constructor(
    bin: string,
    args: string[],
    extraEnv: Record<string, string> = {},
  ) {
    // Each child first raises its open-files limit to the hard limit: 10,000 sockets need it where the
    // soft limit is the usual 1,024.
    const viaShell = existsSync("/bin/sh");
    this.proc = spawn(
      viaShell ? "/bin/sh" : bin,
      viaShell ? ["-c", RAISE_NOFILE, bin, ...args] : args,
      {
        cwd: ROOT,
        stdio: ["pipe", "pipe", "pipe"],
        env: { ...env, NO_COLOR: "1", ...extraEnv },
      },
    );
    this.proc.stdout!.setEncoding("utf8");
    this.proc.stdout!.on("data", (chunk: string) => {
      this.#buf += chunk;
      let nl: number;
      while ((nl = this.#buf.indexOf("\n")) >= 0) {
        const line = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        const i = this.#waiters.findIndex((w) => line.startsWith(w.prefix) || line.startsWith("FAILED"));
        if (i >= 0) {
          const w = this.#waiters.splice(i, 1)[0];
          if (line.startsWith("FAILED") && !w.prefix.startsWith("FAILED")) {
            w.reject(new Error(line));
          } else w.resolve(line.slice(w.prefix.length).trim());
        } else this.#lines.push(line);
      }
    });
    this.proc.stderr!.setEncoding("utf8");
    this.proc.stderr!.on("data", (chunk: string) => {
      if (this.stderr.length < 20_000) this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => this.proc.on("exit", (code) => resolve(code)));
    this.exited.then((code) => {
      const err = new Error(
        `process exited (${code}): ${this.stderr.slice(-800)}`,
      );
      for (const w of this.#waiters.splice(0)) w.reject(err);
    });
  }

  /** The rest of the next line starting with `prefix` (queued or future). */
  line(prefix: string, timeout = 30_000): Promise<string> {
    const i = this.#lines.findIndex((l) => l.startsWith(prefix));
    if (i >= 0) {
      return Promise.resolve(
        this.#lines.splice(i, 1)[0].slice(prefix.length).trim(),
      );
    }
    return new Promise((resolve, reject) => {
      const w = {
        prefix,
        resolve: (s: string) => (clearTimeout(t), resolve(s)),
        reject: (e: Error) => (clearTimeout(t), reject(e)),
      };
      const t = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        reject(
          new Error(
            `no "${prefix}" line within ${timeout} ms; stderr: ${this.stderr.slice(-500)}`,
          ),
        );
      }, timeout);
      this.#waiters.push(w);
    });
  }

  send(line: string): void {
    if (this.proc.stdin?.writable) this.proc.stdin.write(line + "\n");
  }

  async stop(): Promise<void> {
    this.send("exit");
    const t = setTimeout(() => this.proc.kill("SIGKILL"), 3000);
    this.proc.stdin?.end();
    await this.exited;
    clearTimeout(t);
  }
}

export interface Stats {
  rss: number;
  heapUsed: number;
  cpu: number;
  sessions: number;
}

/** A benchmark server (bench/server_*.ts): `READY <url>`, then `stats` / `gc` → `STATS {json}` on stdin. */
export class ServerProc extends Child {
  url = "";
  constructor(
    runtime: Runtime,
    script: string,
    args: string[] = [],
    opts: { gc?: boolean; prof?: string[]; env?: Record<string, string> } = {},
  ) {
    const prof = opts.prof ?? [];
    super(
      BIN[runtime],
      runtime === "deno"
        ? [
          "run",
          "-A",
          ...prof,
          ...(opts.gc ? ["--v8-flags=--expose-gc"] : []),
          script,
          ...args,
        ]
        : [...prof, script, ...args],
      opts.env,
    );
  }
  async ready(): Promise<this> {
    this.url = await this.line("READY", 60_000);
    return this;
  }
  async stats(gc = false): Promise<Stats> {
    this.send(gc ? "gc" : "stats");
    return JSON.parse(await this.line("STATS", 30_000));
  }
}

/** A load client process (bench/load.ts, or another script speaking its protocol) on `runtime`. */
export function loadClient(runtime: Runtime, cfg: LoadConfig, script = "bench/load.ts"): Child {
  const args = runtime === "deno" ? ["run", "-A", script, JSON.stringify(cfg)] : [script, JSON.stringify(cfg)];
  return new Child(BIN[runtime], args);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Window {
  results: Record<string, unknown>[];
  /** Cores used by the server process during the window. */
  serverCpu: number;
  seconds: number;
  /** Cores used by every other process on the machine meanwhile (noise). */
  others: number;
}

export interface DriveOptions {
  warmup: number;
  duration: number;
  clientRuntime: Runtime;
  /** The load client's script (default bench/load.ts; bench/load_raw.ts speaks the same protocol). */
  clientScript?: string;
}

/** Starts the clients, waits for READY from all, runs one window; the server keeps running. */
export async function drive(
  server: ServerProc,
  cfgs: LoadConfig[],
  conf: DriveOptions,
): Promise<Window> {
  const clients = cfgs.map((cfg) => loadClient(conf.clientRuntime, cfg, conf.clientScript));
  try {
    await Promise.all(clients.map((c) => c.line("READY", 60_000)));
    const startAt = Date.now() + 100 + conf.warmup;
    for (const c of clients) c.send(`GO ${startAt} ${conf.duration}`);
    // CPU time from /proc, read by this process at the window's edges: a busy child's own timers run late.
    const pids = [server, ...clients].map((c) => c.proc.pid!);
    await sleep(startAt - Date.now());
    const m0 = machineCpu();
    const c0 = pids.map(procCpu);
    const s0 = isNaN(c0[0]) ? await server.stats() : undefined;
    await sleep(startAt + conf.duration - Date.now());
    const c1 = pids.map(procCpu);
    const m1 = machineCpu();
    const s1 = s0 ? await server.stats() : undefined;
    const results = await Promise.all(
      clients.map(async (c) =>
        JSON.parse(await c.line("RESULT", conf.duration + 30_000)) as Record<
          string,
          unknown
        >
      ),
    );
    const seconds = conf.duration / 1000;
    results.forEach((r, i) => {
      if (!isNaN(c0[i + 1])) r.cpu = c1[i + 1] - c0[i + 1];
    });
    const serverCpu = s0 && s1 ? s1.cpu - s0.cpu : c1[0] - c0[0];
    // What everything else on the machine used meanwhile (other processes: the machine is shared).
    const ours = c1.reduce((a, c, i) => a + c - c0[i], 0);
    const others = Math.max(0, (m1 - m0) - ours) / seconds;
    return { results, serverCpu: serverCpu / seconds, seconds, others };
  } finally {
    for (const c of clients) {
      if (c.proc.exitCode === null) c.proc.kill("SIGKILL");
    }
    await Promise.all(clients.map((c) => c.exited));
  }
}

/**
 * The machine and the runtimes a report was made with: CPU model, cores, Deno's and Bun's versions, `extra` (other
 * programs' versions), then the load average now.
 */
export function machineInfo<E extends Record<string, unknown>>(extra: E = {} as E) {
  return {
    cpu: (() => {
      try {
        return readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/)?.[1] ?? os.cpus()[0]?.model;
      } catch {
        return os.cpus()[0]?.model;
      }
    })(),
    cores: os.cpus().length,
    deno: spawnSync(BIN.deno, ["--version"], { encoding: "utf8" }).stdout?.split("\n")[0],
    bun: `bun ${spawnSync(BIN.bun, ["--version"], { encoding: "utf8" }).stdout?.trim()}`,
    ...extra,
    loadavg: os.loadavg(),
  };
}

/** CPU seconds all processes of the machine have used (busy time summed over cores), from /proc/stat. */
export function machineCpu(): number {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(
      /\s+/,
    ).slice(1).map(Number);
    const [user, nice, system, _idle, _iowait, irq, softirq, steal] = f;
    return (user + nice + system + irq + softirq + steal) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** CPU seconds (user + system, all threads) of a process, from /proc; NaN where there is no /proc. */
export function procCpu(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}
const CLK_TCK = (() => {
  try {
    return Number(
      execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim(),
    ) || 100;
  } catch {
    return 100;
  }
})();

export function split(total: number, parts: number): number[] {
  return Array.from(
    { length: parts },
    (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0),
  );
}

/** Which process limited a window's figure (cores: the CPU use of each during the window). */
export function boundBy(
  serverCpu: number,
  clientCpu: number[],
  others: number,
): string {
  const cores = os.cpus().length || 2;
  const clients = clientCpu.reduce((a, b) => a + b, 0);
  if (serverCpu >= 0.9) return "server";
  if (clientCpu.some((c) => c >= 0.9)) return "client";
  // The server has CPU to spare but the clients took the rest of the machine.
  if (serverCpu + clients >= cores * 0.85) {
    return "client (the clients use the other cores)";
  }
  if (serverCpu + clients + others >= cores * 0.85) {
    return "machine (other processes took the CPU)";
  }
  return "neither (no core saturated)";
}
