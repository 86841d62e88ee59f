// Cluster benchmark: `deno run -A bench/cluster.ts [options]` (~3 min on 2 cores; --quick ~20 s).
//
// Starts its own redis-server (a free port, --save "" --appendonly no) and measures, in interleaved rounds (odd
// rounds in order, even rounds reversed; every measurement in fresh processes):
//
//   fanout      Fan-out latency: from the moment a load client writes tools/call `touch` (which calls
//               server.resourceUpdated(uri)) on instance 1 to the arrival of notifications/resources/updated at
//               each of N WebSocket subscribers (initialize + initialized + resources/subscribe), the subscribers
//               spread evenly over 1 instance without a cluster (the baseline), 2 and 4 instances over Redis (Bun),
//               and a Deno pair with its own baseline. Each instance listens on its own port, so that the spread is
//               exact and the trigger reaches instance 1. One clock: the load client's (bench/load_fanout.ts, raw
//               TCP, Bun), which also holds every subscriber. Each round
//               pools the arrivals of --updates updates (after 2 warm-up ones), each sent once the previous one
//               has reached every subscriber, plus --gap ms. The tool-call round trip alone (`echo`) is reported
//               beside it.
//   throughput  tools/call over WebSocket, server-bound: bench/load_raw.ts (raw TCP, pipelined, --conns ×
//               --window) against one Bun process without a cluster, one with the Redis cluster option, and two
//               on one port (reusePort: true) with it. req/s and server CPU µs per request (/proc, all server
//               processes summed).
//   notice      Server CPU per resourceUpdated delivered to N local subscribers (N = 1 and 10), on Bun and Deno:
//               one process without a cluster, against a pair over Redis where instance A (with N subscribers)
//               raises the notices (publishing each to Redis) and instance B (with N subscribers of its own)
//               receives them. CPU from each server's own getrusage over the window, less its idle rate.
//
// It prints markdown tables (median over rounds, min–max) and writes bench/cluster.json (every sample).
//
// Options (or the environment variable in brackets):
//   --only fanout,throughput,notice   [BENCH_ONLY] (default all three)
//   --quick                           1 round, N = 1,000 only, 10 updates, short windows, notice on Bun only
//                                     [BENCH_QUICK=1]
//   --rounds N                        [BENCH_ROUNDS] (default 3)
//   --subs 1000,10000                 fan-out subscriber counts [BENCH_SUBS]
//   --instances 2,4                   fan-out cluster sizes, Bun [BENCH_INSTANCES]
//   --deno 2@10000                    the Deno rows: instances@subscribers (with its own 1-instance baseline);
//                                     "none" skips them [BENCH_DENO]
//   --updates 20 --gap 30             updates per round and the pause after each (ms) [BENCH_UPDATES, BENCH_GAP]
//   --fanout-client bun|deno          runtime of bench/load_fanout.ts [BENCH_FANOUT_CLIENT] (default bun)
//   --duration 3000 --warmup 1500     throughput window and warm-up (ms) [BENCH_DURATION, BENCH_WARMUP]
//   --conns 32 --window 16            throughput: connections × pipelined requests [BENCH_CONNS, BENCH_WINDOW]
//   --client raw|raw-bun              throughput load client: load_raw.ts on Deno or Bun [BENCH_CLIENT] (raw)
//   --notice-subs 1,10                notice: local subscribers per instance, a list [BENCH_NOTICE_SUBS]
//   --notice-count 5000 --notice-rate 5000
//                                     notice: resourceUpdated calls per window and their rate per second
//   --notice-runtimes bun,deno        [BENCH_NOTICE_RUNTIMES] (--quick: bun)
//   --redis /usr/bin/redis-server     [BENCH_REDIS_SERVER]
//   BENCH_IMPL=/path/to/mod.ts        every server loads this copy of the library (bench/server_cluster.ts)
//   --out bench/cluster.json          [BENCH_OUT]
//
// Every child (servers, load clients, redis-server) is killed on exit, on error and on SIGINT/SIGTERM; each
// also exits by itself when this process's pipes close, and redis-server runs under `timeout`.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import process from "node:process";
import { fmt, showSpread as show, type Spread, spread } from "./common.ts";
import { BIN, Child, machineCpu, machineInfo, procCpu, ROOT, type Runtime, ServerProc, sleep } from "./harness.ts";
import type { LoadConfig } from "./load.ts";
import type { FanoutConfig } from "./load_fanout.ts";

// ---------------------------------------------------------------------------
// Configuration

const argv = process.argv.slice(2);
if (argv.includes("--help") || argv.includes("-h")) {
  const lines = readFileSync(new URL(import.meta.url), "utf8").split("\n");
  console.error(lines.slice(0, lines.findIndex((l) => !l.startsWith("//"))).join("\n"));
  process.exit(0);
}
function option(name: string, envName: string, fallback: string): string {
  const i = argv.lastIndexOf(`--${name}`);
  if (i >= 0 && argv[i + 1] !== undefined) return argv[i + 1];
  return process.env[envName] || fallback;
}
const list = (s: string) => s.split(",").map((x) => x.trim()).filter(Boolean);
const nums = (s: string) => list(s).map(Number).filter((n) => n > 0);
const num = (s: string, d: number) => (s !== "" && !isNaN(Number(s)) ? Number(s) : d);
const rtOf = (s: string): Runtime => (s === "deno" ? "deno" : "bun");
const quick = argv.includes("--quick") || process.env.BENCH_QUICK === "1";

const denoSpec = option("deno", "BENCH_DENO", quick ? "2@1000" : "2@10000");
const CONF = {
  only: list(option("only", "BENCH_ONLY", "fanout,throughput,notice")),
  quick,
  rounds: num(option("rounds", "BENCH_ROUNDS", ""), quick ? 1 : 3),
  subs: nums(option("subs", "BENCH_SUBS", quick ? "1000" : "1000,10000")),
  instances: nums(option("instances", "BENCH_INSTANCES", "2,4")),
  deno: denoSpec === "none" ? undefined : {
    instances: Number(denoSpec.split("@")[0]) || 2,
    subs: Number(denoSpec.split("@")[1]) || 10000,
  },
  updates: num(option("updates", "BENCH_UPDATES", ""), quick ? 10 : 20),
  gap: num(option("gap", "BENCH_GAP", ""), 30),
  fanoutClient: rtOf(option("fanout-client", "BENCH_FANOUT_CLIENT", "bun")),
  duration: num(option("duration", "BENCH_DURATION", ""), quick ? 1500 : 3000),
  warmup: num(option("warmup", "BENCH_WARMUP", ""), quick ? 700 : 1500),
  conns: num(option("conns", "BENCH_CONNS", ""), 32),
  window: num(option("window", "BENCH_WINDOW", ""), 16),
  client: option("client", "BENCH_CLIENT", "raw") === "raw-bun" ? "raw-bun" : "raw",
  noticeSubs: nums(option("notice-subs", "BENCH_NOTICE_SUBS", "1,10")),
  noticeCount: num(option("notice-count", "BENCH_NOTICE_COUNT", ""), quick ? 2000 : 5000),
  noticeRate: num(option("notice-rate", "BENCH_NOTICE_RATE", ""), 5000),
  noticeRuntimes: list(option("notice-runtimes", "BENCH_NOTICE_RUNTIMES", quick ? "bun" : "bun,deno")).map(rtOf),
  redis: option("redis", "BENCH_REDIS_SERVER", "/usr/bin/redis-server"),
  out: option("out", "BENCH_OUT", `${ROOT}bench/cluster.json`),
};
const URI = "bench://item";
const T0 = Date.now();
const log = (msg: string) => console.error(`[cluster ${((Date.now() - T0) / 1000).toFixed(0)}s] ${msg}`);

// ---------------------------------------------------------------------------
// Children: every one is tracked and killed on the way out

const live = new Set<ChildProcess>();
function track<T extends Child>(c: T): T {
  live.add(c.proc);
  c.exited.then(() => live.delete(c.proc));
  return c;
}
function killAll(): void {
  for (const p of live) {
    try {
      p.kill("SIGKILL");
    } catch { /* gone */ }
  }
  live.clear();
  redis?.stop();
}
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    log(`${sig}: stopping every child`);
    killAll();
    process.exit(130);
  });
}

async function stopAll(children: Child[]): Promise<void> {
  await Promise.all(children.map((c) => c.stop().catch(() => c.proc.kill("SIGKILL"))));
}

/** Ends a fan-out client (`exit`, killed after 2 s), then the servers. */
async function stopFanout(client: Child | undefined, servers: Child[]): Promise<void> {
  client?.send("exit");
  await Promise.race([client?.exited, sleep(2000)]);
  if (client?.proc.exitCode === null) client.proc.kill("SIGKILL");
  await stopAll(servers);
}

// ---------------------------------------------------------------------------
// redis-server

interface Redis {
  port: number;
  url: string;
  pid: number;
  stop(): void;
  /** Resolves once redis-server (and the shell around it) has exited. */
  exited: Promise<unknown>;
}
let redis: Redis | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Sends one inline command and resolves with the reply's text (enough for PING and INFO). */
function redisCommand(port: number, command: string, timeout = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: "127.0.0.1", port });
    let buf = "";
    const t = setTimeout(() => (sock.destroy(), reject(new Error("no answer"))), timeout);
    sock.on("error", (e) => (clearTimeout(t), reject(e)));
    sock.on("connect", () => sock.write(`${command}\r\n`));
    sock.on("data", (d) => {
      buf += d.toString();
      // +PONG, or a bulk string whose length the first line gives.
      const m = /^\$(\d+)\r\n/.exec(buf);
      if (buf.startsWith("+") && buf.endsWith("\r\n") || m && buf.length >= m[0].length + Number(m[1]) + 2) {
        clearTimeout(t);
        sock.end();
        resolve(buf);
      }
    });
  });
}

/** CPU seconds redis-server has used (INFO cpu: user + system, to the microsecond). */
async function redisCpu(): Promise<number> {
  if (!redis) return NaN;
  try {
    const info = await redisCommand(redis.port, "INFO cpu");
    const f = (k: string) => Number(new RegExp(`\\r\\n${k}:([0-9.]+)`).exec(info)?.[1]);
    return f("used_cpu_user") + f("used_cpu_sys");
  } catch {
    return NaN;
  }
}

async function startRedis(): Promise<Redis> {
  const port = await freePort();
  // The shell kills redis-server when its stdin closes (this process ended, however it ended); `timeout` is the
  // last resort.
  // (TERM to `timeout` reaches redis-server; `timeout` sends it TERM, then KILL, after 30 minutes anyway.)
  const script = 'timeout -k 5 1800 "$0" "$@" & r=$!; cat >/dev/null; kill $r 2>/dev/null; wait';
  const proc = spawn(
    "/bin/sh",
    ["-c", script, CONF.redis, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["pipe", "ignore", "pipe"] },
  );
  let stderr = "";
  proc.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise((resolve) => proc.on("exit", resolve));
  let pid = NaN, stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      proc.stdin!.end();
    } catch { /* gone */ }
    try {
      if (pid > 0) process.kill(pid, "SIGTERM");
    } catch { /* gone */ }
  };
  for (let i = 0;; i++) {
    try {
      if ((await redisCommand(port, "PING")).startsWith("+PONG")) break;
    } catch { /* not yet */ }
    if (i > 100 || proc.exitCode !== null) {
      stop();
      throw new Error(`redis-server did not start on port ${port}: ${stderr.slice(-400)}`);
    }
    await sleep(50);
  }
  const info = await redisCommand(port, "INFO server");
  pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
  return { port, url: `redis://127.0.0.1:${port}`, pid, stop, exited };
}

// ---------------------------------------------------------------------------
// Server instances

let prefixes = 0;
interface Instances {
  servers: ServerProc[];
  prefix?: string;
}

/** `count` instances of bench/server_cluster.ts; with `cluster`, over Redis with a prefix of their own. */
async function startServers(
  runtime: Runtime,
  count: number,
  opts: { cluster: boolean; reusePort?: boolean },
): Promise<Instances> {
  const prefix = opts.cluster ? `b${++prefixes}` : undefined;
  const env = (port: number): Record<string, string> => ({
    BENCH_PORT: String(port),
    ...(opts.reusePort ? { BENCH_REUSE: "1" } : {}),
    ...(prefix ? { BENCH_REDIS: redis!.url, BENCH_PREFIX: prefix } : {}),
  });
  const servers: ServerProc[] = [];
  try {
    if (opts.reusePort) {
      // The first picks the port, the others join it.
      servers.push(await track(new ServerProc(runtime, "bench/server_cluster.ts", [], { env: env(0) })).ready());
      const port = new URL(servers[0].url).port;
      for (let i = 1; i < count; i++) {
        servers.push(track(new ServerProc(runtime, "bench/server_cluster.ts", [], { env: env(Number(port)) })));
      }
      await Promise.all(servers.slice(1).map((s) => s.ready()));
    } else {
      for (let i = 0; i < count; i++) {
        servers.push(track(new ServerProc(runtime, "bench/server_cluster.ts", [], { env: env(0) })));
      }
      await Promise.all(servers.map((s) => s.ready()));
    }
  } catch (e) {
    await stopAll(servers);
    throw e;
  }
  return { servers, prefix };
}

function fanoutClient(cfg: FanoutConfig): Child {
  const script = "bench/load_fanout.ts";
  const json = JSON.stringify(cfg);
  const rt = CONF.fanoutClient;
  return track(new Child(BIN[rt], rt === "deno" ? ["run", "-A", script, json] : [script, json]));
}

// ---------------------------------------------------------------------------
// Statistics

const signed = (s: Spread, d = 0) => `${s.median >= 0 ? "+" : ""}${show(s, d)}`;

const failures: { what: string; round: number; error: string }[] = [];
const errText = (e: unknown) => String((e as Error)?.message ?? e).replaceAll("\n", " ").slice(0, 600);

// ---------------------------------------------------------------------------
// 1. Fan-out latency

interface FanoutTarget {
  id: string;
  runtime: Runtime;
  instances: number;
  subs: number;
  cluster: boolean;
}
interface FanoutSample {
  target: string;
  round: number;
  openMs: number;
  perInstance: number[];
  p50: number;
  p90: number;
  p99: number;
  max: number;
  lastArrival: number;
  /** p50 at instance 1 (where the update is raised) and at the others, pooled. */
  localP50: number;
  remoteP50: number;
  remoteP99: number;
  /** Per update (median): the last arrival at instance 1, the first at another instance. */
  localLast: number;
  remoteFirst: number;
  touchRtt: number;
  echoRtt: number;
  lost: number;
  /** CPU seconds during the updates: every server, the load client, redis-server (heartbeats only without a cluster). */
  serverCpu: number;
  clientCpu: number;
  redisCpu: number;
  /** Server CPU µs per notification delivered (all instances, the trigger calls included). */
  serverUsPerNotice: number;
  seconds: number;
}

function fanoutTargets(): FanoutTarget[] {
  const ts: FanoutTarget[] = [];
  const add = (runtime: Runtime, instances: number, subs: number) =>
    ts.push({
      id: `${runtime}-${instances === 1 ? "single" : `${instances}x-redis`}-${subs}`,
      runtime,
      instances,
      subs,
      cluster: instances > 1,
    });
  for (const subs of CONF.subs) {
    add("bun", 1, subs);
    for (const k of CONF.instances) add("bun", k, subs);
  }
  if (CONF.deno) {
    add("deno", 1, CONF.deno.subs);
    add("deno", CONF.deno.instances, CONF.deno.subs);
  }
  return ts;
}

async function measureFanout(t: FanoutTarget, round: number): Promise<FanoutSample> {
  const { servers } = await startServers(t.runtime, t.instances, { cluster: t.cluster });
  let client: Child | undefined;
  try {
    client = fanoutClient({
      urls: servers.map((s) => s.url),
      subs: t.subs,
      uri: URI,
      deadline: 180_000,
    });
    const ready = JSON.parse(await client.line("READY", 90_000));
    // Every session subscribed, as the servers see it.
    const seen = await Promise.all(servers.map((s) => s.stats()));
    const subscribed = seen.reduce((a, s) => a + (s as unknown as { subscribed: number }).subscribed, 0);
    if (subscribed !== t.subs) throw new Error(`the servers hold ${subscribed} subscribed sessions, not ${t.subs}`);
    const pids = [...servers.map((s) => s.proc.pid!), client.proc.pid!];
    const c0 = pids.map(procCpu), r0 = await redisCpu();
    const w0 = performance.now();
    client.send(`RUN ${CONF.updates} ${CONF.gap} 2`);
    const r = JSON.parse(await client.line("RESULT", 120_000));
    const seconds = (performance.now() - w0) / 1000;
    const d = pids.map((p, i) => procCpu(p) - c0[i]);
    const r1 = await redisCpu();
    const serverCpu = d.slice(0, servers.length).reduce((a, b) => a + b, 0);
    const remote = (r.instances as { n: number; p50: number; p99: number }[]).slice(1);
    const delivered = (CONF.updates + 2) * t.subs;
    return {
      target: t.id,
      round,
      openMs: ready.openMs,
      perInstance: ready.perInstance,
      p50: r.p50,
      p90: r.p90,
      p99: r.p99,
      max: r.max,
      lastArrival: r.lastArrival,
      localP50: r.instances[0].p50,
      remoteP50: remote.length ? spread(remote.map((x) => x.p50)).median : NaN,
      remoteP99: remote.length ? Math.max(...remote.map((x) => x.p99)) : NaN,
      localLast: r.localLast,
      remoteFirst: r.remoteFirst ?? NaN,
      touchRtt: r.touchRtt,
      echoRtt: r.echoRtt,
      lost: r.lost,
      serverCpu,
      clientCpu: d[servers.length],
      redisCpu: r1 - r0,
      // The echo calls cost next to nothing against 10,000 sends.
      serverUsPerNotice: (serverCpu * 1e6) / delivered,
      seconds,
    };
  } finally {
    await stopFanout(client, servers);
  }
}

// ---------------------------------------------------------------------------
// 2. tools/call throughput: one process, or two on one port

interface TpTarget {
  id: string;
  label: string;
  processes: number;
  cluster: boolean;
}
interface TpSample {
  target: string;
  round: number;
  rps: number;
  errors: number;
  usPerReq: number;
  serverCores: number[];
  clientCores: number;
  others: number;
  /** Connections (sessions) each server process held. */
  split: number[];
}
const tpTargets: TpTarget[] = [
  { id: "bun-1-nocluster", label: "1 process, no cluster", processes: 1, cluster: false },
  { id: "bun-1-redis", label: "1 process, Redis cluster", processes: 1, cluster: true },
  {
    id: "bun-2-reuseport-redis",
    label: "2 processes, one port (reusePort), Redis cluster",
    processes: 2,
    cluster: true,
  },
];

async function measureThroughput(t: TpTarget, round: number): Promise<TpSample> {
  const { servers } = await startServers("bun", t.processes, { cluster: t.cluster, reusePort: true });
  const cfg: LoadConfig = {
    mode: "throughput",
    proto: "ws",
    url: servers[0].url,
    init: true,
    conns: CONF.conns,
    window: CONF.window,
    deadline: CONF.warmup + CONF.duration + 60_000,
  };
  const rt: Runtime = CONF.client === "raw-bun" ? "bun" : "deno";
  const json = JSON.stringify(cfg);
  const client = track(
    new Child(BIN[rt], rt === "deno" ? ["run", "-A", "bench/load_raw.ts", json] : ["bench/load_raw.ts", json]),
  );
  try {
    await client.line("READY", 60_000);
    const split = (await Promise.all(servers.map((s) => s.stats()))).map((s) => s.sessions);
    const startAt = Date.now() + 100 + CONF.warmup;
    client.send(`GO ${startAt} ${CONF.duration}`);
    const pids = [...servers.map((s) => s.proc.pid!), client.proc.pid!];
    await sleep(startAt - Date.now());
    const m0 = machineCpu();
    const c0 = pids.map(procCpu);
    await sleep(startAt + CONF.duration - Date.now());
    const c1 = pids.map(procCpu);
    const m1 = machineCpu();
    const r = JSON.parse(await client.line("RESULT", CONF.duration + 30_000));
    const seconds = CONF.duration / 1000;
    const d = pids.map((_, i) => c1[i] - c0[i]);
    const serverCpu = d.slice(0, servers.length).reduce((a, b) => a + b, 0);
    const rps = r.count / seconds;
    const ours = d.reduce((a, b) => a + b, 0);
    return {
      target: t.id,
      round,
      rps,
      errors: r.errors,
      usPerReq: (serverCpu * 1e6) / r.count,
      serverCores: d.slice(0, servers.length).map((x) => x / seconds),
      clientCores: d[servers.length] / seconds,
      others: Math.max(0, m1 - m0 - ours) / seconds,
      split,
    };
  } finally {
    if (client.proc.exitCode === null) client.proc.kill("SIGKILL");
    await client.exited;
    await stopAll(servers);
  }
}

// ---------------------------------------------------------------------------
// 3. CPU per notification: in process against through Redis

interface NoticeTarget {
  id: string;
  runtime: Runtime;
  subs: number;
  cluster: boolean;
}
interface NoticeSample {
  target: string;
  round: number;
  /** Server CPU µs per resourceUpdated, net of the idle rate: the instance that raises them (A). */
  senderUs: number;
  /** The same on the instance that receives them over Redis (B; cluster only). */
  receiverUs: number;
  /** Idle CPU of A and B, µs per second (heartbeats, timers). */
  idleUsPerS: number[];
  redisUs: number;
  fired: number;
  delivered: number;
  expected: number;
  seconds: number;
}
function noticeTargets(): NoticeTarget[] {
  return CONF.noticeRuntimes.flatMap((runtime) =>
    CONF.noticeSubs.flatMap((subs) => [
      { id: `${runtime}-local-${subs}`, runtime, subs, cluster: false },
      { id: `${runtime}-redis-${subs}`, runtime, subs, cluster: true },
    ])
  );
}

async function measureNotice(t: NoticeTarget, round: number): Promise<NoticeSample> {
  const { servers } = await startServers(t.runtime, t.cluster ? 2 : 1, { cluster: t.cluster });
  let client: Child | undefined;
  try {
    // N subscribers on every instance.
    client = fanoutClient({
      urls: servers.map((s) => s.url),
      subs: t.subs * servers.length,
      uri: URI,
      deadline: 90_000,
    });
    await client.line("READY", 60_000);
    // Warm-up: a few hundred notices through the whole path, then the idle rate.
    const expectAll = (k: number) => k * t.subs * servers.length;
    client.send(`EXPECT ${expectAll(200)} 10000`);
    await client.line("EXPECTING", 5000);
    servers[0].send(`fire 200 ${CONF.noticeRate} ${URI}`);
    await servers[0].line("FIRED", 20_000);
    await client.line("GOT", 20_000);
    await sleep(100);
    const cpu = async () => (await Promise.all(servers.map((s) => s.stats()))).map((s) => s.cpu);
    const i0 = await cpu(), it0 = performance.now();
    await sleep(500);
    const i1 = await cpu(), idleS = (performance.now() - it0) / 1000;
    const idle = i1.map((x, i) => (x - i0[i]) / idleS);
    // The window: from before `fire` until every notice has reached every subscriber.
    const r0 = await redisCpu();
    const c0 = await cpu(), w0 = performance.now();
    client.send(`EXPECT ${expectAll(CONF.noticeCount)} 30000`);
    await client.line("EXPECTING", 5000);
    servers[0].send(`fire ${CONF.noticeCount} ${CONF.noticeRate} ${URI}`);
    const fired = JSON.parse(await servers[0].line("FIRED", 60_000)).fired;
    const got = JSON.parse(await client.line("GOT", 60_000)).arrivals;
    const c1 = await cpu(), seconds = (performance.now() - w0) / 1000;
    const r1 = await redisCpu();
    const net = c1.map((x, i) => ((x - c0[i] - idle[i] * seconds) * 1e6) / CONF.noticeCount);
    return {
      target: t.id,
      round,
      senderUs: net[0],
      receiverUs: net[1] ?? NaN,
      idleUsPerS: idle.map((x) => x * 1e6),
      redisUs: t.cluster ? ((r1 - r0) * 1e6) / CONF.noticeCount : NaN,
      fired,
      delivered: got,
      expected: expectAll(CONF.noticeCount),
      seconds,
    };
  } finally {
    await stopFanout(client, servers);
  }
}

// ---------------------------------------------------------------------------
// Main: sections in turn, rounds interleaved within each

const fanoutSamples: FanoutSample[] = [];
const tpSamples: TpSample[] = [];
const noticeSamples: NoticeSample[] = [];

async function rounds<T extends { id: string }, S>(
  section: string,
  targets: T[],
  measure: (t: T, round: number) => Promise<S>,
  into: S[],
  describe: (s: S) => string,
): Promise<void> {
  for (let round = 1; round <= CONF.rounds; round++) {
    for (const t of round % 2 ? targets : [...targets].reverse()) {
      if (failures.filter((f) => f.what === `${section} ${t.id}`).length >= 2) continue;
      log(`${section} round ${round}/${CONF.rounds} ${t.id}`);
      try {
        const s = await measure(t, round);
        into.push(s);
        log(`  ${describe(s)}`);
      } catch (e) {
        failures.push({ what: `${section} ${t.id}`, round, error: errText(e) });
        log(`  failed: ${errText(e)}`);
        await sleep(300);
      }
    }
  }
}

const machine = machineInfo({
  redis: spawnSync(CONF.redis, ["--version"], { encoding: "utf8" }).stdout?.trim().split(" ").slice(0, 3).join(" "),
});

try {
  redis = await startRedis();
  log(`redis-server on port ${redis.port} (pid ${redis.pid})`);
  if (CONF.only.includes("fanout")) {
    await rounds(
      "fanout",
      fanoutTargets(),
      measureFanout,
      fanoutSamples,
      (s) =>
        `p50 ${fmt(s.p50, 2)} p99 ${fmt(s.p99, 2)} max ${fmt(s.max, 2)} ms (local p50 ${fmt(s.localP50, 2)}, remote ${
          fmt(s.remoteP50, 2)
        }; local last ${fmt(s.localLast, 2)}, remote first ${fmt(s.remoteFirst, 2)}); touch RTT ${
          fmt(s.touchRtt, 2)
        }, echo RTT ${fmt(s.echoRtt, 3)} ms; opened in ${fmt(s.openMs)} ms; ` +
        `server ${fmt(s.serverUsPerNotice, 1)} µs CPU/notice; client ${fmt(s.clientCpu, 2)} s, redis ${
          fmt(s.redisCpu, 2)
        } s CPU${s.lost ? `; ${s.lost} LOST` : ""}`,
    );
  }
  if (CONF.only.includes("throughput")) {
    await rounds(
      "throughput",
      tpTargets,
      measureThroughput,
      tpSamples,
      (s) =>
        `${fmt(s.rps)} req/s, ${fmt(s.usPerReq, 2)} µs server CPU/req; servers ${
          s.serverCores.map((c) => fmt(c, 2)).join(" + ")
        } cores (sessions ${s.split.join("/")}), client ${fmt(s.clientCores, 2)}, others ${fmt(s.others, 2)}${
          s.errors ? `; ${s.errors} errors` : ""
        }`,
    );
  }
  if (CONF.only.includes("notice")) {
    await rounds(
      "notice",
      noticeTargets(),
      measureNotice,
      noticeSamples,
      (s) =>
        `A ${fmt(s.senderUs, 1)} µs, B ${fmt(s.receiverUs, 1)} µs CPU per resourceUpdated; redis ${
          fmt(s.redisUs, 1)
        } µs; ${s.delivered}/${s.expected} delivered in ${fmt(s.seconds, 2)} s; idle ${
          s.idleUsPerS.map((x) => fmt(x)).join(", ")
        } µs/s`,
    );
  }
} catch (e) {
  failures.push({ what: "run", round: 0, error: errText(e) });
  log(`failed: ${errText(e)}`);
} finally {
  killAll();
  // redis-server shuts down on SIGTERM within its next cron tick: wait for it, briefly.
  if (redis) await Promise.race([redis.exited, sleep(5000)]);
}

// ---------------------------------------------------------------------------
// Report

const seconds = (Date.now() - T0) / 1000;
const lines: string[] = [];
lines.push(
  `Machine: ${machine.cpu}, ${machine.cores} cores, load average ${
    machine.loadavg.map((x) => x.toFixed(1)).join(" ")
  }; ${machine.deno}, ${machine.bun}, ${machine.redis}. ${CONF.rounds} interleaved rounds, every measurement in ` +
    `fresh processes; total ${fmt(seconds)} s. Figures: median over rounds (min–max).`,
);

const fanoutSummary = fanoutTargets().map((t) => {
  const mine = fanoutSamples.filter((s) => s.target === t.id);
  const f = (k: keyof FanoutSample) => spread(mine.map((s) => s[k] as number));
  return {
    ...t,
    rounds: mine.length,
    p50: f("p50"),
    p99: f("p99"),
    max: f("max"),
    lastArrival: f("lastArrival"),
    localP50: f("localP50"),
    remoteP50: f("remoteP50"),
    localLast: f("localLast"),
    remoteFirst: f("remoteFirst"),
    touchRtt: f("touchRtt"),
    echoRtt: f("echoRtt"),
    serverUsPerNotice: f("serverUsPerNotice"),
    openMs: f("openMs"),
    lost: mine.reduce((a, s) => a + s.lost, 0),
  };
}).filter((s) => s.rounds);
if (fanoutSummary.length) {
  lines.push(
    "",
    `### Fan-out: one resourceUpdated → notifications/resources/updated at every subscriber (ms)`,
    "",
    `${CONF.updates} updates per round (after 2 warm-up ones), each once the previous one reached every subscriber, ` +
      `pooled; timed by one ${
        CONF.fanoutClient === "bun" ? "Bun" : "Deno"
      } raw-TCP client from writing tools/call touch on instance 1. ` +
      `"local" is instance 1's subscribers, "remote" the others'. The echo round trip is the tool call alone.`,
    "",
    "| subscribers | runtime | instances | p50 | p99 | max | last subscriber (median update) | local p50 / remote p50 | local last → remote first | touch round trip | echo round trip | server µs CPU / notice |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const s of fanoutSummary) {
    lines.push(
      `| ${fmt(s.subs)} | ${s.runtime === "bun" ? "Bun" : "Deno"} | ${
        s.instances === 1 ? "1, no cluster (baseline)" : `${s.instances}, Redis`
      } | ${show(s.p50, 1)} | **${show(s.p99, 1)}** | ${show(s.max, 1)} | ${show(s.lastArrival, 1)} | ${
        show(s.localP50, 1)
      }${s.instances > 1 ? ` / ${show(s.remoteP50, 1)}` : ""} | ${
        s.instances > 1 ? `${show(s.localLast, 1)} → ${show(s.remoteFirst, 1)}` : ""
      } | ${show(s.touchRtt, 1)} | ${show(s.echoRtt, 2)} | ${show(s.serverUsPerNotice, 1)} |${
        s.lost ? ` ⚠ ${s.lost} lost` : ""
      }`,
    );
  }
}

const tpSummary = tpTargets.map((t) => {
  const mine = tpSamples.filter((s) => s.target === t.id);
  return {
    ...t,
    rounds: mine.length,
    rps: spread(mine.map((s) => s.rps)),
    usPerReq: spread(mine.map((s) => s.usPerReq)),
    serverCores: spread(mine.map((s) => s.serverCores.reduce((a, b) => a + b, 0))),
    clientCores: spread(mine.map((s) => s.clientCores)),
    others: spread(mine.map((s) => s.others)),
    splits: mine.map((s) => s.split.join("/")),
    errors: mine.reduce((a, s) => a + s.errors, 0),
  };
}).filter((s) => s.rounds);
if (tpSummary.length) {
  lines.push(
    "",
    `### tools/call throughput, Bun: ${CONF.conns} connections × ${CONF.window} pipelined requests, one raw-TCP ${
      CONF.client === "raw-bun" ? "Bun" : "Deno"
    } load client`,
    "",
    `The machine has ${machine.cores} cores: the load client competes with the server processes, so req/s is ` +
      "bound by the machine, not by the servers; server CPU per request is the comparison.",
    "",
    "| servers | req/s | **server µs CPU/req** | server cores (sum) | client cores | other processes, cores | sessions per process |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const s of tpSummary) {
    lines.push(
      `| ${s.label} | ${show(s.rps)} | **${show(s.usPerReq, 2)}** | ${show(s.serverCores, 2)} | ${
        show(s.clientCores, 2)
      } | ${show(s.others, 2)} | ${s.processes > 1 ? s.splits.join(", ") : "all"} |${
        s.errors ? ` ⚠ ${s.errors} errors` : ""
      }`,
    );
  }
}

const noticeSummary = noticeTargets().map((t) => {
  const mine = noticeSamples.filter((s) => s.target === t.id);
  return {
    ...t,
    rounds: mine.length,
    senderUs: spread(mine.map((s) => s.senderUs)),
    receiverUs: spread(mine.map((s) => s.receiverUs)),
    redisUs: spread(mine.map((s) => s.redisUs)),
    lost: mine.reduce((a, s) => a + s.expected - s.delivered, 0),
  };
}).filter((s) => s.rounds);
if (noticeSummary.length) {
  lines.push(
    "",
    `### Server CPU per resourceUpdated: in process against through Redis (µs)`,
    "",
    `${fmt(CONF.noticeCount)} resourceUpdated calls at ${fmt(CONF.noticeRate)}/s on instance A, each to the N ` +
      "WebSocket subscribers of every instance; CPU from each server's getrusage over the window (until every " +
      "subscriber had every notice), less its idle rate. A raises the notices; B receives them from Redis.",
    "",
    "| runtime | N per instance | setup | µs CPU per resourceUpdated | added by the cluster | per subscriber notified | redis-server µs |",
    "| --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const s of noticeSummary) {
    const rtn = s.runtime === "bun" ? "Bun" : "Deno";
    if (!s.cluster) {
      lines.push(
        `| ${rtn} | ${s.subs} | in process, no cluster (baseline) | ${show(s.senderUs, 1)} | | ${
          fmt(s.senderUs.median / s.subs, 2)
        } | |`,
      );
      continue;
    }
    const base = noticeSamples.filter((x) => x.target === `${s.runtime}-local-${s.subs}`);
    // The added cost, per round against the baseline of the same round.
    const added = (pick: (x: NoticeSample) => number) =>
      spread(
        noticeSamples.filter((x) => x.target === s.id).map((x) => {
          const b = base.find((y) => y.round === x.round);
          return b ? pick(x) - b.senderUs : NaN;
        }),
      );
    lines.push(
      `| ${rtn} | ${s.subs} | Redis cluster, A (raises and publishes) | ${show(s.senderUs, 1)} | ${
        signed(added((x) => x.senderUs), 1)
      } | ${fmt(s.senderUs.median / s.subs, 2)} | ${show(s.redisUs, 1)} |${s.lost ? ` ⚠ ${s.lost} lost` : ""}`,
      `| ${rtn} | ${s.subs} | Redis cluster, B (receives from Redis) | ${show(s.receiverUs, 1)} | ${
        signed(added((x) => x.receiverUs), 1)
      } | ${fmt(s.receiverUs.median / s.subs, 2)} | |`,
    );
  }
}

if (failures.length) {
  lines.push("", "Not measured (or not in every round):");
  for (const f of failures) lines.push(`- ${f.what}, round ${f.round}: ${f.error}`);
}

const table = lines.join("\n");
console.log(table);
writeFileSync(
  CONF.out,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      machine,
      config: CONF,
      seconds,
      fanout: { summary: fanoutSummary, samples: fanoutSamples },
      throughput: { summary: tpSummary, samples: tpSamples },
      notice: { summary: noticeSummary, samples: noticeSamples },
      failures,
      table,
    },
    null,
    2,
  ) + "\n",
);
log(`wrote ${CONF.out}`);
process.exit(failures.length ? 1 : 0);
