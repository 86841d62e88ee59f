// In-process microbenchmark of the library's hot path, without sockets:
// frame → parse → classify → dispatch → validate (zod) → handler → stringify → channel.send,
// timed through Session.receive() on a fake Channel, plus each stage on its own.
//
//   deno run -A bench/micro.ts            bun bench/micro.ts
//   deno run -A bench/micro.ts /tmp/base/mod.ts /tmp/variant/mod.ts
//        compares copies of the library: their rounds interleave, so machine noise hits them alike
//   MICRO_MS=200 MICRO_ROUNDS=9           time per round and rounds (the best and the median round are shown)
//   MICRO_ONLY=receive                    run only the cases whose name contains this
// Prints a markdown table; MICRO_JSON=path also writes the numbers as JSON.
import process from "node:process";
import { writeFileSync } from "node:fs";
import { z } from "zod";
import { callFrame, modernCallFrame, runtime } from "./common.ts";

const implArgs = process.argv.slice(2).length
  ? process.argv.slice(2)
  : [process.env.BENCH_IMPL ?? new URL("../mod.ts", import.meta.url).pathname];
const impls = implArgs.map((a) => new URL(a, `file://${process.cwd()}/`).href);

const MS = Number(process.env.MICRO_MS ?? 200);
const ROUNDS = Number(process.env.MICRO_ROUNDS ?? 9);
const ONLY = process.env.MICRO_ONLY ?? "";

const echoInput = z.object({ text: z.string() });
const ids = 1024;
const frames = (make: (id: number) => string) => Array.from({ length: ids }, (_, i) => make(i + 1));
const callFrames = frames(callFrame);
const frameFor = (tool: string) => frames((id) => callFrame(id).replace('"name":"echo"', `"name":"${tool}"`));
const noSchemaFrames = frameFor("echo_noschema");
const asyncFrames = frameFor("echo_async");
const structFrames = frameFor("echo_struct");
const pingFrames = frames((id) => `{"jsonrpc":"2.0","id":${id},"method":"ping"}`);
// Protocol 2026-07-28: no initialize, the version rides in each request's _meta.
const modernFrames = frames(modernCallFrame);
const parsed = callFrames.map((f) => JSON.parse(f));
const args = parsed.map((p) => p.params.arguments);
const result = { content: [{ type: "text", text: parsed[0].params.arguments.text }] };

interface Case {
  name: string;
  /** Runs `n` operations. */
  run(n: number): void | Promise<void>;
}

let sink: unknown;

/** The cases for one copy of the library: a server with the echo tool and variants, one session. */
async function casesFor(impl: string): Promise<Case[]> {
  const lib = await import(impl) as typeof import("../mod.ts");
  const jsonrpc = await import(new URL("jsonrpc.ts", impl).href) as typeof import("../jsonrpc.ts");
  const server = new lib.McpServer({ name: "micro", version: "1.0.0" });
  server.tool("echo", { input: echoInput }, ({ text }) => text);
  server.tool("echo_noschema", {}, (args) => String(args.text));
  server.tool("echo_async", { input: echoInput }, ({ text }) => Promise.resolve(text));
  server.tool("echo_struct", {
    input: echoInput,
    output: z.object({ text: z.string() }),
  }, ({ text }) => ({ text }));

  let sent = 0;
  let last = "";
  let waiting: { target: number; wake: () => void } | undefined;
  const channel = {
    send(text: string) {
      sent++;
      last = text;
      if (waiting && sent >= waiting.target) (waiting.wake(), waiting = undefined);
    },
    close() {},
  };
  /** Resolves once `target` frames have been sent, or after 2 s (then the case is broken: it throws). */
  const sentReaches = (target: number) =>
    sent >= target ? Promise.resolve() : new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${impl}: stuck at ${sent} of ${target} answers: ${last}`)), 2000);
      waiting = { target, wake: () => (clearTimeout(t), resolve()) };
    });
  const session = server.connect(channel, { transport: "micro" });
  session.receive(JSON.stringify({
    jsonrpc: "2.0",
    id: 0,
    method: "initialize",
    params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "micro", version: "1" } },
  }));
  session.receive(`{"jsonrpc":"2.0","method":"notifications/initialized"}`);
  // The session really answers, with the same frame as the library under test would.
  for (const f of [callFrames[0], noSchemaFrames[0], structFrames[0]]) {
    session.receive(f);
    if (!last.includes('"result"') || last.includes("isError")) throw new Error(`${impl}: echo failed: ${last}`);
  }
  session.receive(modernFrames[0]);
  for (let spin = 0; spin < 100 && !last.includes('"resultType"'); spin++) {
    await new Promise((r) => setTimeout(r, 1));
  }
  const hasModern = last.includes('"resultType":"complete"');

  /** Sends n frames in batches of 64 (maxInFlight) awaited together, as a pipelining client would. */
  const pipelined = async (fr: string[], n: number) => {
    for (let i = 0; i < n;) {
      const target = sent + Math.min(64, n - i);
      for (let k = 0; k < 64 && i < n; k++, i++) session.receive(fr[i & (ids - 1)]);
      await sentReaches(target);
    }
  };

  return [
    {
      name: "receive: tools/call echo (zod input)",
      run(n) {
        for (let i = 0; i < n; i++) session.receive(callFrames[i & (ids - 1)]);
      },
    },
    {
      name: "receive: tools/call, no input schema",
      run(n) {
        for (let i = 0; i < n; i++) session.receive(noSchemaFrames[i & (ids - 1)]);
      },
    },
    {
      name: "receive: tools/call, output schema too",
      run(n) {
        for (let i = 0; i < n; i++) session.receive(structFrames[i & (ids - 1)]);
      },
    },
    {
      name: "receive: tools/call, async handler (64 in flight)",
      run: (n) => pipelined(asyncFrames, n),
    },
    {
      name: "receive: tools/call, protocol 2026-07-28 (64 in flight)",
      run: (n) => hasModern ? pipelined(modernFrames, n) : pipelined(asyncFrames, 0),
    },
    {
      name: "receive: ping",
      run(n) {
        for (let i = 0; i < n; i++) session.receive(pingFrames[i & (ids - 1)]);
      },
    },
    {
      name: "stage: JSON.parse(frame)",
      run(n) {
        for (let i = 0; i < n; i++) sink = JSON.parse(callFrames[i & (ids - 1)]);
      },
    },
    {
      name: "stage: classify(value)",
      run(n) {
        for (let i = 0; i < n; i++) sink = jsonrpc.classify(parsed[i & (ids - 1)]);
      },
    },
    {
      name: "stage: zod validate via ~standard",
      run(n) {
        const std = echoInput["~standard"];
        for (let i = 0; i < n; i++) sink = std.validate(args[i & (ids - 1)]);
      },
    },
    {
      name: "stage: resultFrame(id, result)",
      run(n) {
        for (let i = 0; i < n; i++) sink = jsonrpc.resultFrame(i, result);
      },
    },
    {
      name: "stage: server.connect() (a session)",
      run(n) {
        for (let i = 0; i < n; i++) server.connect(channel).closed();
      },
    },
  ];
}

/** A batch size that takes ~10 ms. */
async function calibrate(c: Case): Promise<number> {
  let batch = 1000;
  for (;;) {
    const t = performance.now();
    await c.run(batch);
    if (performance.now() - t > 10 || batch > 1e7) return batch;
    batch *= 2;
  }
}

async function round(c: Case, batch: number): Promise<number> {
  let ops = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < MS) {
    await c.run(batch);
    ops += batch;
    t = performance.now();
  }
  return ((t - t0) * 1e6) / ops;
}

// Each case runs its rounds interleaved across the copies of the library, so a noisy machine
// slows them alike: compare the copies within a row.
const all = await Promise.all(impls.map(casesFor));
const rows: { name: string; impl: string; best: number; median: number }[] = [];
for (let k = 0; k < all[0].length; k++) {
  const name = all[0][k].name;
  if (ONLY && !name.includes(ONLY)) continue;
  const batches: number[] = [];
  for (const cs of all) batches.push(await calibrate(cs[k]));
  const batch = Math.min(...batches);
  const perOp: number[][] = impls.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < impls.length; i++) perOp[i].push(await round(all[i][k], batch));
  }
  impls.forEach((impl, i) => {
    const sorted = perOp[i].sort((a, b) => a - b);
    rows.push({ name, impl, best: sorted[0], median: sorted[Math.floor(sorted.length / 2)] });
  });
}

const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });
console.log(`${runtime} ${runtime === "bun" ? process.versions.bun : process.versions.deno}`);
const short = (impl: string) => impl.replace(/^file:\/\//, "").replace(/\/mod\.ts$/, "");
const multi = impls.length > 1;
console.log(
  `| case |${multi ? " library |" : ""} ns/op (best) | ns/op (median) | ops/s (best) |${multi ? " vs first |" : ""}`,
);
console.log(`| --- |${multi ? " --- |" : ""} --- | --- | --- |${multi ? " --- |" : ""}`);
for (const r of rows) {
  const first = rows.find((x) => x.name === r.name)!;
  console.log(
    `| ${r.name} |${multi ? ` ${short(r.impl)} |` : ""} ${fmt(r.best)} | ${fmt(r.median)} | ${fmt(1e9 / r.best)} |${
      multi ? ` ${(r.median / first.median).toFixed(2)}× |` : ""
    }`,
  );
}
if (process.env.MICRO_JSON) writeFileSync(process.env.MICRO_JSON, JSON.stringify({ runtime, impls, rows }, null, 2));
if (typeof sink === "symbol") console.log(sink.toString()); // keeps `sink` observable
