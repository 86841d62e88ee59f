// The benchmark: `deno task bench` (or `deno run -A bench/run.ts`).
//
// Every server runs in its own process, every load client in another (on Bun
// by default), all over loopback. Each figure is printed with its baseline
// from the same run and the ratio, as a markdown table; everything measured
// goes to bench/results.json.
//
// Environment:
//   BENCH_QUICK=1            a ~1 minute smoke run (short windows, N = 1,000 only)
//   BENCH_ONLY=a,b           sections to run: throughput, latency, capacity, coldstart (default all)
//   BENCH_TARGETS=a,b        targets to run, e.g. echo-deno,lib-deno (default all)
//   BENCH_DURATION=ms        measured window of throughput and latency runs (default 5000; quick 1500)
//   BENCH_WARMUP=ms          warm-up before each window (default 2000; quick 700)
//   BENCH_CONNS=64 BENCH_WINDOW=16   throughput: C connections x W pipelined requests
//   BENCH_CLIENTS=auto|N     load client processes for throughput (auto: 1, and 2 when the clients are the
//                            bottleneck; a target with a baseline gets as many as its baseline had)
//   BENCH_RATES=1000,10000   offered rates of the latency runs (req/s)
//   BENCH_SESSIONS=1000,5000,10000   capacity steps
//   BENCH_CLIENT_RUNTIME=bun|deno    runtime of the load clients (default bun)
//   BENCH_SDK_RUNTIME=bun|deno       runtime of the SDK servers (default bun)
//   BENCH_OUT=path           where results.json goes (default bench/results.json)
//   BENCH_PROFILE=dir        servers run with --cpu-prof and write their profiles to dir
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import process from "node:process";
import { percentile } from "./common.ts";
import {
  BIN,
  boundBy,
  type Child,
  drive as runWindow,
  loadClient as spawnLoadClient,
  RAISE_NOFILE,
  ROOT,
  type Runtime,
  ServerProc,
  sleep,
  split,
  type Window,
} from "./harness.ts";
import type { LoadConfig } from "./load.ts";

const env = process.env;
const QUICK = env.BENCH_QUICK === "1";
const num = (v: string | undefined, d: number) => (v !== undefined && v !== "" && !isNaN(Number(v)) ? Number(v) : d);
const list = (v: string | undefined, d: string[]) => (v ? v.split(",").map((s) => s.trim()).filter(Boolean) : d);

const CONF = {
  quick: QUICK,
  duration: num(env.BENCH_DURATION, QUICK ? 1500 : 5000),
  warmup: num(env.BENCH_WARMUP, QUICK ? 700 : 2000),
  conns: num(env.BENCH_CONNS, 64),
  window: num(env.BENCH_WINDOW, 16),
  clients: env.BENCH_CLIENTS ?? "auto",
  rates: list(env.BENCH_RATES, ["1000", "10000"]).map(Number),
  latencyConns: num(env.BENCH_LAT_CONNS, 8),
  sessions: list(env.BENCH_SESSIONS, QUICK ? ["1000"] : ["1000", "5000", "10000"]).map(Number),
  idleClients: num(env.BENCH_IDLE_CLIENTS, 2),
  coldRuns: num(env.BENCH_COLD_RUNS, QUICK ? 3 : 7),
  clientRuntime: (env.BENCH_CLIENT_RUNTIME === "deno" ? "deno" : "bun") as Runtime,
  sdkRuntime: (env.BENCH_SDK_RUNTIME === "deno" ? "deno" : "bun") as Runtime,
  only: list(env.BENCH_ONLY, ["throughput", "latency", "capacity", "coldstart"]),
  targets: list(env.BENCH_TARGETS, []),
  out: env.BENCH_OUT ?? `${ROOT}bench/results.json`,
};
const BUDGET_MS = 9.5 * 60_000; // the whole run must fit in 10 minutes: later sections are skipped past this
const T0 = Date.now();

// ---------------------------------------------------------------------------
// Targets

interface Target {
  id: string;
  label: string;
  runtime: Runtime;
  proto: "ws" | "http";
  script: string;
  args?: string[];
  init: boolean;
  stateful?: boolean;
  /** The target whose figure this one is divided by. */
  baseline?: string;
  /** Protocol 2026-07-28 requests (no initialize; the version in each request's _meta). */
  modern?: boolean;
  /** Only these sections (default: all that apply). */
  sections?: string[];
  /** Why this target cannot be run (listed in the report instead). */
  unavailable?: string;
}

const TARGETS: Target[] = [
  {
    id: "echo-deno",
    label: "raw WebSocket echo",
    runtime: "deno",
    proto: "ws",
    script: "bench/server_echo.ts",
    init: false,
  },
  {
    id: "echo-bun",
    label: "raw WebSocket echo",
    runtime: "bun",
    proto: "ws",
    script: "bench/server_echo.ts",
    init: false,
  },
  {
    id: "lib-deno",
    label: "mcp-ws, WebSocket",
    runtime: "deno",
    proto: "ws",
    script: "bench/server_lib.ts",
    init: true,
    baseline: "echo-deno",
  },
  {
    id: "lib-bun",
    label: "mcp-ws, WebSocket",
    runtime: "bun",
    proto: "ws",
    script: "bench/server_lib.ts",
    init: true,
    baseline: "echo-bun",
  },
  {
    id: "lib-deno-2026",
    label: "mcp-ws, WebSocket, protocol 2026-07-28",
    runtime: "deno",
    proto: "ws",
    script: "bench/server_lib.ts",
    init: false,
    modern: true,
    baseline: "echo-deno",
    sections: ["throughput"],
  },
  {
    id: "lib-bun-2026",
    label: "mcp-ws, WebSocket, protocol 2026-07-28",
    runtime: "bun",
    proto: "ws",
    script: "bench/server_lib.ts",
    init: false,
    modern: true,
    baseline: "echo-bun",
    sections: ["throughput"],
  },
  {
    id: "sdk-stateless",
    label: "official SDK, Streamable HTTP stateless",
    runtime: CONF.sdkRuntime,
    proto: "http",
    script: "bench/server_sdk.ts",
    args: ["stateless"],
    init: false,
  },
  {
    id: "sdk-stateful",
    label: "official SDK, Streamable HTTP stateful",
    runtime: CONF.sdkRuntime,
    proto: "http",
    script: "bench/server_sdk.ts",
    args: ["stateful"],
    init: true,
    stateful: true,
  },
  // ===== HOOK(lib-http): this library over its own Streamable HTTP transport =====
  // bench/server_lib_http.ts serves the same echo tool through serve()'s Streamable HTTP and prints its
  // URL; these rows use the same HTTP load client as the SDK rows (stateful: initialize, then
  // Mcp-Session-Id on every request). Targets whose script is missing are skipped and listed as such;
  // `unavailable` marks a row the library cannot serve (reported, not run).
  {
    id: "lib-http-stateful",
    label: "mcp-ws, Streamable HTTP stateful",
    runtime: CONF.sdkRuntime,
    proto: "http",
    script: "bench/server_lib_http.ts",
    args: ["stateful"],
    init: true,
    stateful: true,
    baseline: "sdk-stateful",
  },
  {
    id: "lib-http-stateless",
    label: "mcp-ws, Streamable HTTP stateless",
    runtime: CONF.sdkRuntime,
    proto: "http",
    script: "bench/server_lib_http.ts",
    args: ["stateless"],
    init: false,
    baseline: "sdk-stateless",
    unavailable: "the library's Streamable HTTP has no stateless mode (every request needs Mcp-Session-Id)",
  },
  // ===== end HOOK(lib-http) =====
];

const fileExists = (p: string) => existsSync(`${ROOT}${p}`);

const selected = (t: Target) =>
  (!CONF.targets.length || CONF.targets.includes(t.id)) && fileExists(t.script) && !t.unavailable;
const skippedTargets = TARGETS.filter((t) => !fileExists(t.script) || t.unavailable).map((t) =>
  t.unavailable ? `${t.id} (${t.unavailable})` : `${t.id} (no ${t.script})`
);

// ---------------------------------------------------------------------------
// Child processes

let profiles = 0;

class Server extends ServerProc {
  constructor(readonly target: Target, gc = false) {
    // BENCH_PROFILE=dir: every server writes a CPU profile there (<target>-<n>.cpuprofile) when it exits.
    const prof = env.BENCH_PROFILE
      ? [`--cpu-prof`, `--cpu-prof-dir=${env.BENCH_PROFILE}`, `--cpu-prof-name=${target.id}-${++profiles}.cpuprofile`]
      : [];
    super(target.runtime, target.script, target.args ?? [], { gc, prof });
  }
}

const loadClient = (cfg: LoadConfig): Child => spawnLoadClient(CONF.clientRuntime, cfg);

// ---------------------------------------------------------------------------
// Measurements

interface Run {
  clients: number;
  serverCpu: number; // cores used by the server process during the window
  clientCpu: number[]; // cores used by each client process
  others: number; // cores used by every other process on the machine meanwhile (noise)
  bound: string;
}

interface ThroughputResult extends Run {
  target: string;
  rps: number;
  errors: number;
  conns: number;
  window: number;
  attempts?: ThroughputResult[];
}

async function withServer<T>(target: Target, f: (s: Server) => Promise<T>, gc = false): Promise<T> {
  const s = await new Server(target, gc).ready();
  try {
    return await f(s);
  } finally {
    await s.stop();
  }
}

/** Starts the clients, waits for READY from all, runs one window; the server keeps running. */
const drive = (server: Server, cfgs: LoadConfig[]): Promise<Window> => runWindow(server, cfgs, CONF);

async function throughputOnce(target: Target, clients: number): Promise<ThroughputResult> {
  return await withServer(target, async (server) => {
    const cfgs = split(CONF.conns, clients).map((conns): LoadConfig => ({
      mode: "throughput",
      proto: target.proto,
      url: server.url,
      init: target.init,
      stateful: target.stateful,
      modern: target.modern,
      conns,
      window: CONF.window,
      deadline: CONF.warmup + CONF.duration + 90_000,
    }));
    const { results, serverCpu, seconds, others } = await drive(server, cfgs);
    const count = results.reduce((a, r) => a + (r.count as number), 0);
    const clientCpu = results.map((r) => (r.cpu as number) / seconds);
    return {
      target: target.id,
      rps: count / seconds,
      errors: results.reduce((a, r) => a + (r.errors as number), 0),
      conns: CONF.conns,
      window: CONF.window,
      clients,
      serverCpu,
      clientCpu,
      others,
      bound: boundBy(serverCpu, clientCpu, others),
    };
  });
}

async function throughput(target: Target, base?: ThroughputResult): Promise<ThroughputResult> {
  if (CONF.clients !== "auto") return await throughputOnce(target, Number(CONF.clients) || 1);
  // Against a baseline, drive with as many client processes as the baseline was: the same load.
  if (base) return await throughputOnce(target, base.clients);
  const one = await throughputOnce(target, 1);
  if (!one.bound.startsWith("client")) return one;
  // One client saturated its core: try two, keep the better.
  const two = await throughputOnce(target, 2);
  const best = two.rps > one.rps ? two : one;
  return { ...best, attempts: [one, two] };
}

interface LatencyResult extends Run {
  target: string;
  rate: number;
  achieved: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
  co: { p50: number; p99: number; p999: number };
  samples: number;
  errors: number;
  skipped: number;
  lost: number;
}

async function latency(target: Target, rate: number): Promise<LatencyResult> {
  return await withServer(target, async (server) => {
    const cfg: LoadConfig = {
      mode: "latency",
      proto: target.proto,
      url: server.url,
      init: target.init,
      stateful: target.stateful,
      modern: target.modern,
      conns: CONF.latencyConns,
      rate,
      deadline: CONF.warmup + CONF.duration + 90_000,
    };
    const { results, serverCpu, seconds, others } = await drive(server, [cfg]);
    const r = results[0];
    const ms = (a: number[]) => Float64Array.from(a, (x) => x / 1000).sort();
    const lat = ms(r.lat as number[]);
    const co = ms(r.latCo as number[]);
    const clientCpu = [(r.cpu as number) / seconds];
    return {
      target: target.id,
      rate,
      achieved: lat.length / seconds,
      p50: percentile(lat, 0.5),
      p99: percentile(lat, 0.99),
      p999: percentile(lat, 0.999),
      max: lat.length ? lat[lat.length - 1] : NaN,
      co: { p50: percentile(co, 0.5), p99: percentile(co, 0.99), p999: percentile(co, 0.999) },
      samples: lat.length,
      errors: r.errors as number,
      skipped: r.skipped as number,
      lost: r.lost as number,
      clients: 1,
      serverCpu,
      clientCpu,
      others,
      bound: boundBy(serverCpu, clientCpu, others),
    };
  });
}

interface CapacityStep {
  sessions: number;
  held: number;
  errors: number;
  openMs: number; // this step
  cumulativeOpenMs: number; // from zero sessions
  rss: number;
  heapUsed: number;
  rssPerSession: number;
  heapPerSession: number;
}

interface CapacityResult {
  target: string;
  rss0: number;
  heap0: number;
  steps: CapacityStep[];
  error?: string;
}

async function capacity(target: Target): Promise<CapacityResult> {
  return await withServer(target, async (server) => {
    const mk = (): LoadConfig => ({
      mode: "idle",
      proto: "ws",
      url: server.url,
      init: true,
      conns: 0,
      deadline: 240_000,
    });
    // Warm up the accept/initialize path, so the baseline includes compiled code, not sessions.
    const warm = loadClient(mk());
    await warm.line("READY");
    warm.send("open 200");
    await warm.line("OPENED", 60_000);
    warm.send("close");
    await warm.line("RESULT", 10_000).catch(() => "");
    await warm.exited;
    for (let k = 0; k < 50 && (await server.stats()).sessions > 0; k++) await sleep(50);
    const base = await server.stats(true);
    const result: CapacityResult = { target: target.id, rss0: base.rss, heap0: base.heapUsed, steps: [] };
    const clients = Array.from({ length: CONF.idleClients }, () => loadClient(mk()));
    try {
      await Promise.all(clients.map((c) => c.line("READY")));
      let cumulative = 0;
      for (const n of CONF.sessions) {
        const shares = split(n, clients.length);
        const t = performance.now();
        clients.forEach((c, i) => c.send(`open ${shares[i]}`));
        const opened = (await Promise.all(clients.map((c) => c.line("OPENED", 120_000)))).map((l) =>
          JSON.parse(l) as { held: number; errors: number; ms: number }
        );
        const ms = performance.now() - t;
        cumulative += ms;
        const s = await server.stats(true);
        const held = s.sessions;
        result.steps.push({
          sessions: n,
          held,
          errors: opened.reduce((a, o) => a + o.errors, 0),
          openMs: ms,
          cumulativeOpenMs: cumulative,
          rss: s.rss,
          heapUsed: s.heapUsed,
          rssPerSession: (s.rss - base.rss) / held,
          heapPerSession: (s.heapUsed - base.heapUsed) / held,
        });
        if (held < n) break;
      }
    } catch (e) {
      result.error = String((e as Error).message ?? e);
    } finally {
      for (const c of clients) c.send("close");
      await Promise.race([Promise.all(clients.map((c) => c.exited)), sleep(5000)]);
      for (const c of clients) if (c.proc.exitCode === null) c.proc.kill("SIGKILL");
    }
    return result;
  }, true);
}

interface ColdResult {
  target: string;
  runs: number[];
  median: number;
  min: number;
}

/**
 * Process start to the first tools/call answered (the raw echo: to its first answer), with a warm
 * module cache. The probing client is a separate, already running Bun process (see probe() in load.ts).
 */
async function coldStart(target: Target, prober: Child): Promise<ColdResult> {
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    const server = new Server(target);
    try {
      await server.ready();
      prober.send(`probe ${server.url} ${target.init ? 1 : 0}`);
      const r = JSON.parse(await prober.line("PROBED", 15_000)) as { ms?: number; error?: string };
      if (r.error) throw new Error(r.error);
      return performance.now() - t0;
    } finally {
      await server.stop();
    }
  };
  await once(); // fills the module cache (Deno transpiles on first run)
  const runs: number[] = [];
  for (let i = 0; i < CONF.coldRuns; i++) runs.push(await once());
  const sorted = [...runs].sort((a, b) => a - b);
  return { target: target.id, runs, median: percentile(sorted, 0.5), min: sorted[0] };
}

// ---------------------------------------------------------------------------
// Report

const fmt = (n: number, d = 0) =>
  !isFinite(n) ? "–" : n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const ratio = (a: number, b: number) => (isFinite(a) && isFinite(b) && b > 0 ? `${fmt(a / b, 2)}×` : "–");
const check = (ok: boolean | undefined) => (ok === undefined ? "" : ok ? " ✅" : " ❌");
const rtName = (r: Runtime) => (r === "deno" ? "Deno" : "Bun");
const byId = (id: string) => TARGETS.find((t) => t.id === id)!;

function runInfo(r: Run): string {
  const cli = r.clientCpu.map((c) => fmt(c, 2)).join("+");
  return `srv ${fmt(r.serverCpu, 2)} / cli ${cli} / other processes ${fmt(r.others, 2)} cores, ${r.clients} client${
    r.clients > 1 ? "s" : ""
  }; bound: ${r.bound}`;
}

function versionOf(bin: string): string {
  try {
    return execFileSync(bin, ["--version"], { encoding: "utf8" }).split("\n")[0].trim();
  } catch {
    return "?";
  }
}

function machine() {
  let cpu = os.cpus()[0]?.model ?? "?";
  try {
    const m = readFileSync("/proc/cpuinfo", "utf8").match(/model name\s*:\s*(.*)/);
    if (m) cpu = m[1];
  } catch { /* not Linux */ }
  return {
    cpu,
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    deno: versionOf(BIN.deno),
    bun: `bun ${versionOf(BIN.bun)}`,
    loadavg: os.loadavg(),
    openFiles: (() => {
      try {
        return execFileSync("/bin/sh", ["-c", RAISE_NOFILE, "/bin/sh", "-c", "ulimit -n"], { encoding: "utf8" }).trim();
      } catch {
        return "?";
      }
    })(),
  };
}

// ---------------------------------------------------------------------------
// Main

const results = {
  date: new Date().toISOString(),
  machine: machine(),
  config: CONF,
  skippedTargets,
  throughput: [] as ThroughputResult[],
  latency: [] as LatencyResult[],
  capacity: [] as CapacityResult[],
  coldStart: [] as ColdResult[],
  failures: [] as { section: string; target: string; error: string }[],
  seconds: 0,
};

const overBudget = () => Date.now() - T0 > BUDGET_MS;
function log(msg: string) {
  console.error(`[bench ${fmt((Date.now() - T0) / 1000, 0)}s] ${msg}`);
}

async function attempt<T>(section: string, target: string, f: () => Promise<T>): Promise<T | undefined> {
  if (overBudget()) {
    results.failures.push({ section, target, error: "skipped: the 10-minute budget ran out" });
    return undefined;
  }
  log(`${section} ${target}`);
  try {
    return await f();
  } catch (e) {
    const error = String((e as Error)?.message ?? e).slice(0, 1000);
    log(`  failed: ${error}`);
    results.failures.push({ section, target, error });
    return undefined;
  }
}

const active = TARGETS.filter(selected);
const inSection = (section: string) => active.filter((t) => !t.sections || t.sections.includes(section));
if (skippedTargets.length) log(`skipped: ${skippedTargets.join("; ")}`);

if (CONF.only.includes("throughput")) {
  for (const t of inSection("throughput")) {
    const base = results.throughput.find((b) => b.target === t.baseline);
    const r = await attempt("throughput", t.id, () => throughput(t, base));
    if (r) results.throughput.push(r), log(`  ${fmt(r.rps)} req/s (${runInfo(r)})`);
  }
}
if (CONF.only.includes("latency")) {
  for (const rate of CONF.rates) {
    for (const t of inSection("latency")) {
      const r = await attempt("latency", `${t.id}@${rate}`, () => latency(t, rate));
      if (r) results.latency.push(r), log(`  p50 ${fmt(r.p50, 3)} p99 ${fmt(r.p99, 3)} p999 ${fmt(r.p999, 3)} ms`);
    }
  }
}
if (CONF.only.includes("capacity")) {
  for (const t of inSection("capacity").filter((t) => t.proto === "ws")) {
    const r = await attempt("capacity", t.id, () => capacity(t));
    if (r) results.capacity.push(r), log(`  ${r.steps.map((s) => `${s.held}: ${fmt(s.rssPerSession)} B`).join(", ")}`);
  }
}
if (CONF.only.includes("coldstart")) {
  const prober = loadClient({ mode: "probe", proto: "ws", url: "", init: false, conns: 0, deadline: 300_000 });
  try {
    await prober.line("READY");
    for (const t of inSection("coldstart").filter((t) => t.proto === "ws")) {
      const r = await attempt("coldstart", t.id, () => coldStart(t, prober));
      if (r) results.coldStart.push(r), log(`  median ${fmt(r.median, 1)} ms`);
    }
  } finally {
    prober.send("close");
    await Promise.race([prober.exited, sleep(3000)]);
    if (prober.proc.exitCode === null) prober.proc.kill("SIGKILL");
  }
}
results.seconds = (Date.now() - T0) / 1000;

// The table.
const rows: string[][] = [];
const tp = (id: string) => results.throughput.find((r) => r.target === id);
const sdkTargets = ["sdk-stateless", "sdk-stateful"];
// Server CPU time per answered request: less sensitive than req/s to other processes taking CPU.
const cpuPerReq = (r: ThroughputResult) => (r.serverCpu * 1e6) / r.rps;
for (const r of results.throughput) {
  const t = byId(r.target);
  const base = t.baseline ? tp(t.baseline) : undefined;
  let vs = base ? `${ratio(r.rps, base.rps)} ${base.target}` : "baseline";
  let target = "";
  if (t.id.startsWith("lib-") && t.proto === "ws") {
    target = `≥ 0.8× echo${check(base && r.rps >= 0.8 * base.rps)}`;
    // ≥ 5× the SDK, on the runtime the SDK ran on.
    if (t.runtime === CONF.sdkRuntime) {
      for (const sid of sdkTargets) {
        const sdk = tp(sid);
        if (sdk) {
          vs += `; ${ratio(r.rps, sdk.rps)} ${sid}`;
          target += `; ≥ 5× ${sid}${check(r.rps >= 5 * sdk.rps)}`;
        }
      }
    }
  }
  rows.push([
    "throughput",
    `${t.label} (${rtName(t.runtime)}), ${r.conns}×${r.window}`,
    `${fmt(r.rps)} req/s${r.errors ? ` (${r.errors} errors)` : ""}; server ${fmt(cpuPerReq(r), 1)} µs CPU/req`,
    base ? `${vs}; CPU/req ${ratio(cpuPerReq(r), cpuPerReq(base))}` : vs,
    target,
    runInfo(r),
  ]);
}
for (const r of results.latency) {
  const t = byId(r.target);
  const base = t.baseline ? results.latency.find((b) => b.target === t.baseline && b.rate === r.rate) : undefined;
  const overloaded = r.achieved < 0.9 * r.rate || r.skipped > 0;
  rows.push([
    `latency @ ${fmt(r.rate)}/s`,
    `${t.label} (${rtName(t.runtime)}), ${CONF.latencyConns} conns`,
    `p50 ${fmt(r.p50, 3)} / p99 ${fmt(r.p99, 3)} / p999 ${fmt(r.p999, 3)} ms${
      overloaded ? ` (overloaded: ${fmt(r.achieved)} req/s answered)` : ""
    }${r.errors ? ` (${r.errors} errors)` : ""}`,
    base ? `p99 ${ratio(r.p99, base.p99)} ${base.target} (${fmt(base.p99, 3)} ms)` : "baseline",
    t.id.startsWith("lib-") && t.proto === "ws" && r.rate === 1000 ? `p99 < 2 ms${check(r.p99 < 2)}` : "",
    `intended-send p99 ${fmt(r.co.p99, 3)} ms; ${runInfo(r)}`,
  ]);
}
for (const r of results.capacity) {
  const t = byId(r.target);
  const base = t.baseline ? results.capacity.find((b) => b.target === t.baseline) : undefined;
  for (const s of r.steps) {
    const bs = base?.steps.find((b) => b.sessions === s.sessions);
    const isLib = t.id.startsWith("lib-");
    rows.push([
      `capacity N=${fmt(s.sessions)}`,
      `${t.label} (${rtName(t.runtime)}), idle initialized sessions`,
      `${fmt(s.rssPerSession / 1024, 1)} KiB RSS/session; opened in ${fmt(s.cumulativeOpenMs / 1000, 2)} s${
        s.held < s.sessions ? ` (only ${s.held} held, ${s.errors} errors)` : ""
      }`,
      bs
        ? `${ratio(s.rssPerSession, bs.rssPerSession)} RSS, ${ratio(s.cumulativeOpenMs, bs.cumulativeOpenMs)} time vs ${
          base!.target
        }`
        : "baseline",
      isLib
        ? `≤ 20 KiB${check(s.rssPerSession <= 20 * 1024)}${
          s.sessions >= 10_000 ? `; 10k held${check(s.held >= 10_000)}` : ""
        }`
        : "",
      `heap ${fmt(s.heapPerSession / 1024, 1)} KiB/session; RSS ${fmt(s.rss / 2 ** 20, 1)} MiB (idle ${
        fmt(r.rss0 / 2 ** 20, 1)
      } MiB)`,
    ]);
  }
  if (r.error) {
    rows.push([`capacity`, `${t.label} (${rtName(t.runtime)})`, `failed: ${r.error.slice(0, 200)}`, "", "", ""]);
  }
}
for (const r of results.coldStart) {
  const t = byId(r.target);
  const base = t.baseline ? results.coldStart.find((b) => b.target === t.baseline) : undefined;
  rows.push([
    "cold start",
    `${t.label} (${rtName(t.runtime)}): process start → first ${t.init ? "tools/call answered" : "echo"}`,
    `${fmt(r.median, 1)} ms median (min ${fmt(r.min, 1)}, ${r.runs.length} runs)`,
    base ? `${ratio(r.median, base.median)} ${base.target}` : "baseline",
    "",
    "",
  ]);
}
for (const f of results.failures) rows.push([f.section, f.target, "not measured", "", "", f.error.slice(0, 160)]);

const esc = (s: string) => s.replaceAll("|", "\\|").replaceAll("\n", " ");
const m = results.machine;
const table = [
  `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}; ${m.deno}, ${m.bun}. ` +
  `Load clients on ${rtName(CONF.clientRuntime)}, SDK servers on ${rtName(CONF.sdkRuntime)}; ` +
  `windows ${CONF.duration} ms after ${CONF.warmup} ms warm-up${QUICK ? " (BENCH_QUICK)" : ""}; total ${
    fmt(results.seconds)
  } s.`,
  skippedTargets.length ? `Skipped: ${skippedTargets.join("; ")}.` : "",
  "",
  "| section | what | result | vs baseline (same run) | target | notes |",
  "| --- | --- | --- | --- | --- | --- |",
  ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
].filter((l, i) => i !== 1 || l !== "").join("\n");

console.log(table);
writeFileSync(CONF.out, JSON.stringify({ ...results, table }, null, 2) + "\n");
log(`wrote ${CONF.out}`);
