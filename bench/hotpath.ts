// Server-bound hot-path benchmark: `deno run -A bench/hotpath.ts [options]`.
//
//   ws    one load client (8 connections × 32 pipelined tools/call of the zod echo tool; by default
//         bench/load_raw.ts, WebSocket spoken by hand over TCP, cheap enough that the server is the bottleneck)
//         against, on Deno and on Bun: the raw WebSocket echo, this library (serve()), and the official SDK's
//         McpServer behind a minimal WebSocket transport (bench/server_sdk_ws.ts). req/s, the ratio to the raw
//         echo of the same runtime in the same round, server and client CPU µs per request, server and client
//         cores.
//   http  one load client process, 16 concurrent tools/call loops over stateful sessions, against, on Deno
//         and on Bun: this library, mcp-lite, tmcp and the official SDK (Express, stateful). Server CPU µs
//         per request (the headline), req/s, server and client cores.
//
// Every target runs in every round (odd rounds in order, even rounds reversed), each window in a fresh server
// process after a warm-up, so all rows see the same machine noise. Several copies of this library
// (--impl before=/tmp/before/mod.ts --impl after=./mod.ts) are separate targets of every round.
//
// Options (or the environment variable in brackets):
//   --only ws,http          methods to run [BENCH_ONLY] (default both)
//   --impl name=path        a copy of the library's mod.ts, repeatable [BENCH_IMPLS=name=path,name=path]
//                           (default: this checkout's mod.ts, named "lib")
//   --rounds N              [BENCH_ROUNDS] (default 3)
//   --duration ms           measured window [BENCH_DURATION] (default 3000)
//   --warmup ms             load before each window [BENCH_WARMUP] (default 1500)
//   --runtimes deno,bun     server runtimes [BENCH_RUNTIMES] (default both)
//   --targets a,b           only targets whose id contains one of these [BENCH_TARGETS]
//   --client raw|raw-bun|deno|bun
//                           the WebSocket load client [BENCH_CLIENT_RUNTIME] (default raw): raw = bench/load_raw.ts
//                           on Deno, raw-bun = the same on Bun, deno|bun = bench/load.ts (the runtime's WebSocket)
//   --http-client deno|bun  runtime of the HTTP load client [BENCH_HTTP_CLIENT_RUNTIME] (default bun)
//   --out path              JSON results [BENCH_OUT] (default bench/hotpath.json)
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import process from "node:process";
import { fmt, showSpread, type Spread, spread } from "./common.ts";
import { drive, machineInfo, ROOT, type Runtime, ServerProc, sleep } from "./harness.ts";
import type { LoadConfig } from "./load.ts";

// ---------------------------------------------------------------------------
// Configuration

const argv = process.argv.slice(2);
function option(name: string, envName: string, fallback: string): string {
  const i = argv.lastIndexOf(`--${name}`);
  if (i >= 0 && argv[i + 1] !== undefined) return argv[i + 1];
  return process.env[envName] || fallback;
}
const list = (s: string) => s.split(",").map((x) => x.trim()).filter(Boolean);
const num = (s: string, d: number) => (s !== "" && !isNaN(Number(s)) ? Number(s) : d);
const rtOf = (s: string): Runtime => (s === "bun" ? "bun" : "deno");

/** A WebSocket load client: bench/load_raw.ts (raw, raw-bun) or bench/load.ts with the runtime's WebSocket. */
interface WsClient {
  name: string;
  runtime: Runtime;
  script: string;
  /** For the report. */
  label: string;
}
function wsClientOf(s: string): WsClient {
  const clients: Record<string, WsClient> = {
    raw: { name: "raw", runtime: "deno", script: "bench/load_raw.ts", label: "raw-TCP Deno (load_raw.ts)" },
    "raw-bun": { name: "raw-bun", runtime: "bun", script: "bench/load_raw.ts", label: "raw-TCP Bun (load_raw.ts)" },
    deno: { name: "deno", runtime: "deno", script: "bench/load.ts", label: "Deno WebSocket (load.ts)" },
    bun: { name: "bun", runtime: "bun", script: "bench/load.ts", label: "Bun WebSocket (load.ts)" },
  };
  const c = clients[s];
  if (!c) {
    console.error(`bench: --client ${s}: one of ${Object.keys(clients).join(", ")}`);
    process.exit(2);
  }
  return c;
}

const usage = () => {
  console.error(
    "usage: deno run -A bench/hotpath.ts [--only ws,http] [--impl name=path ...] [--rounds N] " +
      "[--duration ms] [--warmup ms] [--runtimes deno,bun] [--targets a,b] [--client raw|raw-bun|deno|bun] " +
      "[--http-client deno|bun] [--out path]",
  );
  process.exit(2);
};
if (argv.includes("--help") || argv.includes("-h")) usage();

/** The copies of the library to measure: `name=path` (path relative to the working directory). */
function impls(): { name: string; path?: string }[] {
  const given = [
    ...argv.flatMap((a, i) => (a === "--impl" && argv[i + 1] ? [argv[i + 1]] : [])),
    ...(argv.includes("--impl") ? [] : list(process.env.BENCH_IMPLS ?? "")),
  ];
  if (!given.length) return [{ name: "lib" }];
  return given.map((spec) => {
    const eq = spec.indexOf("=");
    const name = eq > 0 ? spec.slice(0, eq) : `impl${given.indexOf(spec) + 1}`;
    const path = new URL(eq > 0 ? spec.slice(eq + 1) : spec, `file://${process.cwd()}/`).pathname;
    if (!existsSync(path)) {
      console.error(`bench: --impl ${spec}: ${path} does not exist`);
      process.exit(2);
    }
    return { name, path };
  });
}

const CONF = {
  only: list(option("only", "BENCH_ONLY", "ws,http")),
  impls: impls(),
  rounds: num(option("rounds", "BENCH_ROUNDS", ""), 3),
  duration: num(option("duration", "BENCH_DURATION", ""), 3000),
  warmup: num(option("warmup", "BENCH_WARMUP", ""), 1500),
  runtimes: list(option("runtimes", "BENCH_RUNTIMES", "deno,bun")).map(rtOf),
  targets: list(option("targets", "BENCH_TARGETS", "")),
  wsClient: wsClientOf(option("client", "BENCH_CLIENT_RUNTIME", "raw")),
  httpClient: rtOf(option("http-client", "BENCH_HTTP_CLIENT_RUNTIME", "bun")),
  ws: { conns: 8, window: 32 },
  http: { loops: 16 },
  out: option("out", "BENCH_OUT", `${ROOT}bench/hotpath.json`),
};
const T0 = Date.now();
const log = (msg: string) => console.error(`[hotpath ${((Date.now() - T0) / 1000).toFixed(0)}s] ${msg}`);

// ---------------------------------------------------------------------------
// Targets

interface Target {
  id: string;
  method: "ws" | "http";
  runtime: Runtime;
  label: string;
  script: string;
  args?: string[];
  env?: Record<string, string>;
  /** A copy of this library (its name in --impl). */
  impl?: string;
  /** Send initialize first (every MCP server; not the raw echo). */
  init: boolean;
  /** HTTP Accept header, where the default (application/json, text/event-stream) would get SSE. */
  accept?: string;
  /** How the answers come (HTTP). */
  answers?: string;
}

const rtName = (r: Runtime) => (r === "deno" ? "Deno" : "Bun");
const multi = CONF.impls.length > 1;

function targets(): Target[] {
  const all: Target[] = [];
  for (const runtime of CONF.runtimes) {
    const lib = (method: "ws" | "http"): Target[] =>
      CONF.impls.map(({ name, path }): Target => ({
        id: `${method}-${multi ? name : "lib"}-${runtime}`,
        method,
        runtime,
        label: `mcp-ws${multi || path ? ` (${name})` : ""}`,
        script: method === "ws" ? "bench/server_lib.ts" : "bench/server_lib_http.ts",
        args: method === "ws" ? [] : ["stateful"],
        env: path ? { BENCH_IMPL: path } : undefined,
        impl: name,
        init: true,
        answers: "JSON",
      }));
    all.push(
      {
        id: `ws-echo-${runtime}`,
        method: "ws",
        runtime,
        label: "raw echo",
        script: "bench/server_echo.ts",
        init: false,
      },
      ...lib("ws"),
      { id: `ws-sdk-${runtime}`, method: "ws", runtime, label: "SDK", script: "bench/server_sdk_ws.ts", init: true },
    );
    all.push(
      ...lib("http"),
      {
        id: `http-mcp-lite-${runtime}`,
        method: "http",
        runtime,
        label: "mcp-lite",
        script: "bench/server_peer_http.ts",
        args: ["mcp-lite"],
        init: true,
        accept: "application/json", // with text/event-stream in Accept it answers SSE
        answers: "JSON",
      },
      {
        id: `http-tmcp-${runtime}`,
        method: "http",
        runtime,
        label: "tmcp",
        script: "bench/server_peer_http.ts",
        args: ["tmcp"],
        init: true,
        answers: "SSE (always)",
      },
      {
        id: `http-sdk-${runtime}`,
        method: "http",
        runtime,
        label: "SDK (Express, stateful)",
        script: "bench/server_sdk.ts",
        args: ["stateful"],
        init: true,
        answers: "JSON",
      },
    );
  }
  return all.filter((t) =>
    CONF.only.includes(t.method) && (!CONF.targets.length || CONF.targets.some((s) => t.id.includes(s)))
  );
}

// ---------------------------------------------------------------------------
// Measurement

interface Sample {
  target: string;
  round: number;
  rps: number;
  errors: number;
  /** Cores used during the window. */
  serverCpu: number;
  clientCpu: number;
  others: number;
  /** Server CPU time per answered request, µs. */
  usPerReq: number;
  /** Client CPU time per answered request, µs. */
  clientUsPerReq: number;
}

async function measure(t: Target, round: number): Promise<Sample> {
  const server = await new ServerProc(t.runtime, t.script, t.args ?? [], { env: t.env }).ready();
  try {
    const cfg: LoadConfig = t.method === "ws"
      ? {
        mode: "throughput",
        proto: "ws",
        url: server.url,
        init: t.init,
        conns: CONF.ws.conns,
        window: CONF.ws.window,
        deadline: CONF.warmup + CONF.duration + 60_000,
      }
      : {
        mode: "throughput",
        proto: "http",
        url: server.url,
        init: true,
        stateful: true,
        accept: t.accept,
        conns: CONF.http.loops,
        window: 1,
        deadline: CONF.warmup + CONF.duration + 60_000,
      };
    const w = await drive(server, [cfg], {
      warmup: CONF.warmup,
      duration: CONF.duration,
      clientRuntime: t.method === "ws" ? CONF.wsClient.runtime : CONF.httpClient,
      clientScript: t.method === "ws" ? CONF.wsClient.script : undefined,
    });
    const r = w.results[0];
    const rps = (r.count as number) / w.seconds;
    const clientCpu = (r.cpu as number) / w.seconds;
    return {
      target: t.id,
      round,
      rps,
      errors: r.errors as number,
      serverCpu: w.serverCpu,
      clientCpu,
      others: w.others,
      usPerReq: (w.serverCpu * 1e6) / rps,
      clientUsPerReq: (clientCpu * 1e6) / rps,
    };
  } finally {
    await server.stop();
  }
}

/** bench/peers/node_modules (mcp-lite, tmcp) for the Bun servers; Deno loads them as npm: specifiers. */
function ensurePeers(): string | undefined {
  const dir = `${ROOT}bench/peers`;
  if (existsSync(`${dir}/node_modules/mcp-lite`) && existsSync(`${dir}/node_modules/tmcp`)) return undefined;
  log("installing bench/peers (mcp-lite, tmcp) with npm ci");
  const npm = spawnSync("npm", ["ci", "--prefix", dir, "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return npm.status === 0 ? undefined : `npm ci --prefix bench/peers failed: ${(npm.stderr ?? npm.error).toString()}`;
}

// ---------------------------------------------------------------------------
// Main

const all = targets();
if (!all.length) {
  console.error("bench: no target selected");
  usage();
}
const peersError = all.some((t) => t.script === "bench/server_peer_http.ts" && t.runtime === "bun")
  ? ensurePeers()
  : undefined;

const samples: Sample[] = [];
const failures: { target: string; round: number; error: string }[] = [];
for (const method of ["ws", "http"] as const) {
  const ts = all.filter((t) => t.method === method);
  if (!ts.length) continue;
  for (let round = 1; round <= CONF.rounds; round++) {
    // Alternate the order: a slow drift of the machine does not always favour the same targets.
    for (const t of round % 2 ? ts : [...ts].reverse()) {
      if (failures.filter((f) => f.target === t.id).length >= 2) continue; // failed twice: give up on it
      log(`round ${round}/${CONF.rounds} ${t.id}`);
      try {
        if (peersError && t.script === "bench/server_peer_http.ts" && t.runtime === "bun") throw new Error(peersError);
        const s = await measure(t, round);
        samples.push(s);
        log(
          `  ${s.rps.toFixed(0)} req/s, ${s.usPerReq.toFixed(1)} µs CPU/req (client ${
            s.clientUsPerReq.toFixed(1)
          }); server ${s.serverCpu.toFixed(2)}, ` +
            `client ${s.clientCpu.toFixed(2)}, others ${s.others.toFixed(2)} cores${
              s.errors ? `; ${s.errors} errors` : ""
            }`,
        );
      } catch (e) {
        const error = String((e as Error)?.message ?? e).slice(0, 600);
        failures.push({ target: t.id, round, error });
        log(`  failed: ${error}`);
        await sleep(200);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Report

/** Per round, the ratio of `t`'s figure to `base`'s figure in the same round. */
function ratios(t: string, base: string, f: (s: Sample) => number): Spread {
  const xs: number[] = [];
  for (const s of samples.filter((s) => s.target === t)) {
    const b = samples.find((x) => x.target === base && x.round === s.round);
    if (b) xs.push(f(s) / f(b));
  }
  return spread(xs);
}

interface Summary {
  target: string;
  method: string;
  runtime: Runtime;
  label: string;
  rounds: number;
  rps: Spread;
  usPerReq: Spread;
  clientUsPerReq: Spread;
  serverCpu: Spread;
  clientCpu: Spread;
  others: Spread;
  errors: number;
  /** WebSocket: req/s ÷ the raw echo's of the same runtime, per round. */
  vsEcho?: Spread;
  /** Several --impl: this copy's figure ÷ the first copy's, per round (req/s and CPU/req). */
  vsFirstImpl?: { impl: string; rps: Spread; usPerReq: Spread };
  /** HTTP: CPU/req ÷ this library's (first copy) on the same runtime, per round. */
  cpuVsLib?: Spread;
  flags: string[];
}

const summaries: Summary[] = [];
for (const t of all) {
  const mine = samples.filter((s) => s.target === t.id);
  if (!mine.length) continue;
  const firstImpl = CONF.impls[0].name;
  const libId = (name: string) => `${t.method}-${multi ? name : "lib"}-${t.runtime}`;
  const flags: string[] = [];
  const clientSat = mine.filter((s) => s.clientCpu >= 0.9).length;
  const serverLow = mine.filter((s) => s.serverCpu < 0.9).length;
  if (clientSat) flags.push(`client ≥ 0.9 core in ${clientSat}/${mine.length} rounds`);
  if (serverLow) flags.push(`server < 0.9 core in ${serverLow}/${mine.length} rounds`);
  const errors = mine.reduce((a, s) => a + s.errors, 0);
  if (errors) flags.push(`${errors} errors`);
  summaries.push({
    target: t.id,
    method: t.method,
    runtime: t.runtime,
    label: t.label,
    rounds: mine.length,
    rps: spread(mine.map((s) => s.rps)),
    usPerReq: spread(mine.map((s) => s.usPerReq)),
    clientUsPerReq: spread(mine.map((s) => s.clientUsPerReq)),
    serverCpu: spread(mine.map((s) => s.serverCpu)),
    clientCpu: spread(mine.map((s) => s.clientCpu)),
    others: spread(mine.map((s) => s.others)),
    errors,
    vsEcho: t.method === "ws" && t.init ? ratios(t.id, `ws-echo-${t.runtime}`, (s) => s.rps) : undefined,
    vsFirstImpl: multi && t.impl && t.impl !== firstImpl
      ? {
        impl: firstImpl,
        rps: ratios(t.id, libId(firstImpl), (s) => s.rps),
        usPerReq: ratios(t.id, libId(firstImpl), (s) => s.usPerReq),
      }
      : undefined,
    cpuVsLib: t.method === "http" && !t.impl ? ratios(t.id, libId(firstImpl), (s) => s.usPerReq) : undefined,
    flags,
  });
}

const byTarget = new Map(all.map((t) => [t.id, t]));
const ratioText = (s: Spread | undefined) => (s && s.n ? showSpread(s, 2, "×") : "");
const lines: string[] = [];
const m = machineInfo();
const seconds = (Date.now() - T0) / 1000;
lines.push(
  `Machine: ${m.cpu}, ${m.cores} cores, load average ${
    m.loadavg.map((x) => x.toFixed(1)).join(" ")
  }; ${m.deno}, ${m.bun}. ` +
    `${CONF.rounds} interleaved rounds, ${CONF.duration} ms windows after ${CONF.warmup} ms warm-up; ` +
    `library copies: ${CONF.impls.map((i) => `${i.name}=${i.path ?? "./mod.ts"}`).join(", ")}; total ${
      fmt(seconds)
    } s. ` +
    "Figures: median over rounds (min–max).",
);
const ws = summaries.filter((s) => s.method === "ws");
if (ws.length) {
  lines.push(
    "",
    `### WebSocket hot path: ${CONF.ws.conns} connections × ${CONF.ws.window} pipelined tools/call, one ` +
      `${CONF.wsClient.label} load client`,
    "",
    `| server | runtime | req/s | ÷ raw echo (same round) | server µs CPU/req | client µs CPU/req | server cores | client cores | other processes, cores |${
      multi ? ` vs ${CONF.impls[0].name}: req/s, CPU/req |` : ""
    } flags |`,
    `| --- | --- | --- | --- | --- | --- | --- | --- | --- |${multi ? " --- |" : ""} --- |`,
  );
  for (const s of ws) {
    lines.push(
      `| ${s.label} | ${rtName(s.runtime)} | ${showSpread(s.rps)} | ${ratioText(s.vsEcho) || "baseline"} | ${
        showSpread(s.usPerReq, 1)
      } | ${showSpread(s.clientUsPerReq, 1)} | ${showSpread(s.serverCpu, 2)} | ${showSpread(s.clientCpu, 2)} | ${
        showSpread(s.others, 2)
      } |${
        multi
          ? ` ${s.vsFirstImpl ? `${ratioText(s.vsFirstImpl.rps)}, ${ratioText(s.vsFirstImpl.usPerReq)}` : ""} |`
          : ""
      } ${s.flags.length ? `⚠ ${s.flags.join("; ")}` : ""} |`,
    );
  }
}
const http = summaries.filter((s) => s.method === "http");
if (http.length) {
  lines.push(
    "",
    `### Streamable HTTP: ${CONF.http.loops} concurrent tools/call loops over stateful sessions, one ` +
      `${rtName(CONF.httpClient)} load client`,
    "",
    `| server | runtime | answers | **server µs CPU/req** | CPU/req ÷ mcp-ws | req/s | server cores | client cores | other processes, cores |${
      multi ? ` vs ${CONF.impls[0].name}: req/s, CPU/req |` : ""
    } flags |`,
    `| --- | --- | --- | --- | --- | --- | --- | --- | --- |${multi ? " --- |" : ""} --- |`,
  );
  for (const s of http) {
    lines.push(
      `| ${s.label} | ${rtName(s.runtime)} | ${byTarget.get(s.target)?.answers ?? ""} | **${
        showSpread(s.usPerReq, 1)
      }** | ${ratioText(s.cpuVsLib) || (s.target.includes("-lib-") || byTarget.get(s.target)?.impl ? "" : "–")} | ${
        showSpread(s.rps)
      } | ${showSpread(s.serverCpu, 2)} | ${showSpread(s.clientCpu, 2)} | ${showSpread(s.others, 2)} |${
        multi
          ? ` ${s.vsFirstImpl ? `${ratioText(s.vsFirstImpl.rps)}, ${ratioText(s.vsFirstImpl.usPerReq)}` : ""} |`
          : ""
      } ${s.flags.length ? `⚠ ${s.flags.join("; ")}` : ""} |`,
    );
  }
}
const failed = [...new Set(failures.map((f) => f.target))];
if (failed.length) {
  lines.push("", "Not measured (or not in every round):");
  for (const id of failed) {
    const f = failures.filter((x) => x.target === id);
    lines.push(`- ${id}: failed in round ${f.map((x) => x.round).join(", ")}: ${f[0].error.replaceAll("\n", " ")}`);
  }
}
const table = lines.join("\n");
console.log(table);
writeFileSync(
  CONF.out,
  JSON.stringify(
    { date: new Date().toISOString(), machine: m, config: CONF, seconds, summaries, samples, failures, table },
    null,
    2,
  ) +
    "\n",
);
log(`wrote ${CONF.out}`);
