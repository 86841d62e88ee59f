// Soak: a server in a child process, many client connections in this one with
// mixed traffic for a fixed time, then the figures that matter for a
// long-running server: its memory before and after, sessions left over, and
// requests that never got an answer on connections that stayed open (must be 0).
//
//   ./tools/node_modules/.bin/deno run -A bench/soak.ts
//   ./tools/node_modules/.bin/bun run bench/soak.ts
//
// Env: SOAK_SECONDS (default 20), SOAK_CONNECTIONS (default 200), SOAK_ABRUPT
// (raw TCP clients that drop mid-request, default 10), SOAK_SETTLE (seconds to
// wait after every client left before the last memory reading, default 0: on
// Deno a closed socket stays reachable until its idle timer, the server's
// keepAlive of 30 s, fires, so heap "after" includes recent connections unless
// SOAK_SETTLE is over 30). Loopback only.
//
// Traffic per connection (two request loops each): tools/call echo (55%), ping
// (20%), slow calls of 5-100 ms (17%), slow calls cancelled mid-flight (7.5%),
// and closing the socket with requests in flight (0.5%; a new connection takes
// its place). Meanwhile raw TCP clients upgrade, send requests and drop the
// connection without a close frame. Exit code 1 when a request went unanswered
// on an open connection, an answer was wrong, the server closed a connection,
// or the server kept sessions after every client left.
import process from "node:process";
import { connect } from "node:net";
import { spawn } from "node:child_process";
import v8 from "node:v8";
import vm from "node:vm";
import { z } from "zod";
import { McpServer, serve } from "../mod.ts";
import { encodeFrame } from "./ws_frames.ts";

const env = process.env;
const SECONDS = Number(env.SOAK_SECONDS) || 20;
const CONNECTIONS = Number(env.SOAK_CONNECTIONS) || 200;
const ABRUPT = Number(env.SOAK_ABRUPT ?? 10);
const STREAMS = 2; // concurrent request loops per connection
const SETTLE = Number(env.SOAK_SETTLE) || 0;
const DRAIN_MS = 10_000; // after the run, how long answers may still take

// deno-lint-ignore no-explicit-any
const rt = globalThis as any;
const runtime = rt.Bun ? `bun ${rt.Bun.version}` : rt.Deno ? `deno ${rt.Deno.version.deno}` : "unknown";
const mb = (n: number) => `${(n / 1048576).toFixed(1)} MB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (n: number) => Math.floor(Math.random() * n);

interface ServerStats {
  rss: number;
  heap: number;
  sessions: number;
  connections: number;
}

if (env.SOAK_ROLE === "server") await runServer();
else await runClients();

// ---------------------------------------------------------------------------
// The server (child process): prints READY <url>, answers `stats` and `gc` on stdin.

async function runServer(): Promise<void> {
  // A full GC for the memory figures: Bun.gc on Bun; on Deno, V8's gc exposed at run time.
  const fullGc: (() => void) | undefined = rt.Bun?.gc ? () => rt.Bun.gc(true) : (() => {
    try {
      v8.setFlagsFromString("--expose-gc");
      return vm.runInNewContext("gc") as () => void;
    } catch {
      return undefined;
    }
  })();

  const server = new McpServer({ name: "soak", version: "1.0.0" });
  server.tool("echo", { input: z.object({ text: z.string() }) }, ({ text }) => text);
  server.tool("slow", { input: z.object({ ms: z.number() }) }, ({ ms }, ctx) =>
    new Promise<string>((resolve) => {
      const t = setTimeout(() => resolve(`slept ${ms}`), ms);
      ctx.signal.addEventListener("abort", () => (clearTimeout(t), resolve("aborted")), { once: true });
    }));
  const handle = serve(server, { port: 0, hostname: "127.0.0.1" });

  const report = (): ServerStats => {
    const m = process.memoryUsage();
    return { rss: m.rss, heap: m.heapUsed, sessions: server.sessions.size, connections: handle.connections };
  };
  let buf = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
      const cmd = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (cmd === "gc") { for (let i = 0; i < 3; i++) fullGc?.(); }
      if (cmd === "exit") return void handle.close({ timeout: 100 }).then(() => process.exit(0));
      console.log(`STATS ${JSON.stringify({ ...report(), gc: !!fullGc })}`);
    }
  });
  process.stdin.on("end", () => process.exit(0));
  console.log(`READY ${handle.url.href}`);
  await new Promise(() => {}); // until stdin says exit or closes
}

// ---------------------------------------------------------------------------
// The clients (this process)

async function runClients(): Promise<void> {
  const self = new URL(import.meta.url).pathname;
  const [cmd, args] = rt.Bun ? [process.execPath, ["run", self]] : [rt.Deno.execPath(), ["run", "-A", self]];
  const child = spawn(cmd, args, { env: { ...env, SOAK_ROLE: "server" }, stdio: ["pipe", "pipe", "inherit"] });
  const lines: string[] = [];
  let waiter: (() => void) | undefined;
  let out = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    out += chunk;
    for (let nl = out.indexOf("\n"); nl >= 0; nl = out.indexOf("\n")) {
      lines.push(out.slice(0, nl));
      out = out.slice(nl + 1);
    }
    waiter?.();
  });
  const nextLine = async (prefix: string): Promise<string> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const i = lines.findIndex((l) => l.startsWith(prefix));
      if (i >= 0) return lines.splice(i, 1)[0].slice(prefix.length);
      if (Date.now() > deadline) throw new Error(`the server process did not print ${prefix}`);
      await Promise.race([new Promise<void>((r) => (waiter = r)), sleep(1000)]);
    }
  };
  const ask = async (command: "stats" | "gc"): Promise<ServerStats & { gc: boolean }> => {
    child.stdin!.write(`${command}\n`);
    return JSON.parse(await nextLine("STATS "));
  };

  const url = new URL(await nextLine("READY "));
  const before = await ask("gc");

  // -- bookkeeping ----------------------------------------------------------
  const stats = {
    sent: 0,
    answered: 0,
    wrong: 0, // answers that are not what the request asked for
    cancelled: 0,
    answeredAfterCancel: 0, // allowed: the result may already have been on its way
    midRequestCloses: 0, // we closed a socket with requests in flight
    abruptDrops: 0, // raw TCP clients dropped without a close frame
    reconnects: 0,
    unexpectedCloses: 0, // the server closed a connection we did not close
    connectFailures: 0,
  };
  const wrongSamples: string[] = [];
  const latencies: number[] = []; // echo round trips in ms: a reservoir of 20,000
  let latencySeen = 0;
  const recordLatency = (ms: number) => {
    latencySeen++;
    if (latencies.length < 20_000) latencies.push(ms);
    else {
      const i = rand(latencySeen);
      if (i < latencies.length) latencies[i] = ms;
    }
  };
  const wrong = (what: string) => {
    stats.wrong++;
    if (wrongSamples.length < 5) wrongSamples.push(what.slice(0, 300));
  };

  interface Pending {
    method: string;
    expect?: string; // the tool's text result
    at: number;
    cancelled: boolean;
    resolve(): void;
  }

  let running = true;

  /** One WebSocket connection, initialized, with request bookkeeping. */
  class Conn {
    ws!: WebSocket;
    pending = new Map<number, Pending>();
    nextId = 1;
    closedByUs = false;
    closed = false;

    async open(): Promise<void> {
      this.ws = new WebSocket(url, "mcp");
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => (this.ws.close(), reject(new Error("connect timed out"))), 10_000);
        this.ws.onopen = () => (clearTimeout(timer), resolve());
        this.ws.onerror = () => (clearTimeout(timer), reject(new Error("connect failed")));
      });
      this.ws.onmessage = (e) => this.#message(String(e.data));
      this.ws.onclose = () => {
        this.closed = true;
        if (!this.closedByUs) stats.unexpectedCloses++;
        for (const p of this.pending.values()) p.resolve(); // release the loops; these are not counted
      };
      await this.call("initialize", {
        protocolVersion: "2025-11-25",
        capabilities: {},
        clientInfo: { name: "soak", version: "1" },
      });
      this.ws.send('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    }

    #message(text: string) {
      let m: { id?: number; result?: Record<string, unknown>; error?: { code: number; message: string } };
      try {
        m = JSON.parse(text);
      } catch {
        return wrong(`unparseable: ${text}`);
      }
      if (typeof m.id !== "number") return; // notifications
      const p = this.pending.get(m.id);
      if (!p) return wrong(`an answer to unknown id ${m.id}: ${text}`);
      this.pending.delete(m.id);
      if (p.cancelled) stats.answeredAfterCancel++;
      else {
        stats.answered++;
        if (p.method === "ping") {
          if (!m.result || Object.keys(m.result).length) wrong(`ping: ${text}`);
        } else if (p.method === "tools/call") {
          const got = (m.result?.content as { text?: string }[] | undefined)?.[0]?.text;
          if (got !== p.expect) wrong(`tools/call expected ${p.expect}: ${text}`);
          else if (p.expect?.startsWith("echo")) recordLatency(performance.now() - p.at);
        } else if (!m.result) wrong(`${p.method}: ${text}`);
      }
      p.resolve();
    }

    /** Sends a request; resolves when it is answered, or when the connection closes. */
    call(method: string, params: Record<string, unknown>, expect?: string): Promise<void> & { id: number } {
      const id = this.nextId++;
      let resolve!: () => void;
      const done = new Promise<void>((r) => (resolve = r)) as Promise<void> & { id: number };
      done.id = id;
      if (this.closed || this.ws.readyState !== WebSocket.OPEN) return (resolve(), done); // closed under us
      this.pending.set(id, { method, expect, at: performance.now(), cancelled: false, resolve });
      stats.sent++;
      this.ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
      return done;
    }

    cancel(id: number) {
      const p = this.pending.get(id);
      if (!p || this.ws.readyState !== WebSocket.OPEN) return;
      p.cancelled = true;
      stats.cancelled++;
      this.ws.send(JSON.stringify({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id } }));
    }

    closeNow() {
      this.closedByUs = true;
      this.ws.close();
    }

    /** Requests still waiting for an answer (cancelled ones excluded). */
    get unanswered(): number {
      let n = 0;
      for (const p of this.pending.values()) if (!p.cancelled) n++;
      return n;
    }
  }

  // -- traffic --------------------------------------------------------------
  const conns: Conn[] = [];

  async function loop(conn: Conn): Promise<void> {
    while (running && !conn.closed) {
      const k = rand(1000);
      if (k < 550) {
        const text = `echo ${rand(1e9)}`;
        await conn.call("tools/call", { name: "echo", arguments: { text } }, text);
      } else if (k < 750) {
        await conn.call("ping", {});
      } else if (k < 920) {
        const ms = 5 + rand(96);
        await conn.call("tools/call", { name: "slow", arguments: { ms } }, `slept ${ms}`);
      } else if (k < 995) {
        // Cancel a slow call mid-flight, then fence with a ping: frames on one socket are ordered.
        const ms = 300 + rand(500);
        const call = conn.call("tools/call", { name: "slow", arguments: { ms } }, `slept ${ms}`);
        await sleep(5 + rand(40));
        conn.cancel(call.id);
        await conn.call("ping", {});
      } else {
        // Close the socket with requests in flight; a new connection takes its place.
        const ms = 50 + rand(200);
        void conn.call("tools/call", { name: "slow", arguments: { ms } }, `slept ${ms}`);
        void conn.call("tools/call", { name: "echo", arguments: { text: "never read" } }, "never read");
        stats.midRequestCloses++;
        conn.closeNow();
        return;
      }
    }
  }

  async function user(slot: number): Promise<void> {
    while (running) {
      const conn = new Conn();
      try {
        await conn.open();
      } catch {
        stats.connectFailures++;
        await sleep(100);
        continue;
      }
      conns[slot] = conn;
      await Promise.all(Array.from({ length: STREAMS }, () => loop(conn)));
      if (!running) return;
      stats.reconnects++;
    }
  }

  /** A raw TCP client: upgrade, initialize, a slow call and an echo, then drop without a close frame. */
  function abrupt(): Promise<void> {
    return new Promise((resolve) => {
      const socket = connect({ host: "127.0.0.1", port: Number(url.port) });
      socket.setNoDelay(true);
      let upgraded = false;
      const done = () => (socket.destroy(), resolve());
      const timer = setTimeout(done, 5000);
      socket.on("error", () => {});
      socket.on("close", () => (clearTimeout(timer), resolve()));
      socket.on("connect", () => {
        socket.write(
          `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${btoa("soak-abrupt-key!")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
      socket.on("data", (d: Uint8Array) => {
        if (upgraded) return;
        upgraded = true;
        if (!new TextDecoder().decode(d).startsWith("HTTP/1.1 101")) return done();
        const init = { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "abrupt", version: "1" } };
        for (
          const m of [
            { jsonrpc: "2.0", id: 0, method: "initialize", params: init },
            { jsonrpc: "2.0", method: "notifications/initialized" },
            { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "slow", arguments: { ms: 200 } } },
            {
              jsonrpc: "2.0",
              id: 2,
              method: "tools/call",
              params: { name: "echo", arguments: { text: "x".repeat(rand(5000)) } },
            },
          ]
        ) socket.write(encodeFrame(0x1, JSON.stringify(m)));
        stats.abruptDrops++;
        setTimeout(done, rand(30)); // drop mid-request: no close frame
      });
    });
  }

  async function dropper(): Promise<void> {
    while (running) {
      await abrupt();
      await sleep(rand(50));
    }
  }

  // -- run ------------------------------------------------------------------
  console.log(
    `soak on ${runtime}: ${CONNECTIONS} connections x ${STREAMS} loops + ${ABRUPT} abrupt clients, ${SECONDS} s, ${url}`,
  );
  console.log(`server RSS before: ${mb(before.rss)}, heap ${mb(before.heap)} (listening, no clients)`);

  const started = performance.now();
  const users = Array.from({ length: CONNECTIONS }, (_, i) => user(i));
  const droppers = Array.from({ length: ABRUPT }, () => dropper());
  let peak = before.rss;
  let lastAnswered = 0;
  for (let t = 5; t <= SECONDS; t += 5) {
    await sleep(5000);
    const s = await ask("stats");
    peak = Math.max(peak, s.rss);
    const open = conns.filter((c) => c && !c.closed).length;
    console.log(
      `  t=${String(t).padStart(3)} s  ${
        String(Math.round((stats.answered - lastAnswered) / 5)).padStart(6)
      } answers/s` +
        `  open ${open}  server sessions ${s.sessions}  server rss ${mb(s.rss)}`,
    );
    lastAnswered = stats.answered;
  }
  await sleep(Math.max(0, SECONDS * 1000 - (performance.now() - started)));
  running = false;
  const elapsed = (performance.now() - started) / 1000;

  // Let every loop finish its step, then give outstanding answers time to arrive.
  const deadline = Date.now() + DRAIN_MS;
  const stillOpen = () => conns.filter((c) => c && !c.closed && !c.closedByUs);
  while (Date.now() < deadline && stillOpen().some((c) => c.unanswered > 0)) await sleep(20);
  const unanswered = stillOpen().reduce((n, c) => n + c.unanswered, 0);
  const openAtEnd = stillOpen().length;
  await Promise.race([Promise.all([...users, ...droppers]), sleep(DRAIN_MS)]);
  const loaded = await ask("stats");
  peak = Math.max(peak, loaded.rss);

  // Close everything; the server must let go of every session.
  for (const c of conns) if (c && !c.closed) c.closeNow();
  let after = await ask("stats");
  for (const end = Date.now() + 10_000; Date.now() < end && (after.sessions || after.connections);) {
    await sleep(50);
    after = await ask("stats");
  }
  if (SETTLE) await sleep(SETTLE * 1000);
  after = await ask("gc");
  child.stdin!.write("exit\n");
  const exited = new Promise((r) => child.once("exit", r));
  await Promise.race([exited, sleep(5000)]);
  child.kill();

  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(2) : "-";
  const delta = (a: number, b: number) => `${b >= a ? "+" : ""}${mb(b - a)}`;

  console.log(`
results after ${elapsed.toFixed(1)} s on ${runtime}
  requests sent                      ${stats.sent}
  answered                           ${stats.answered}  (${(stats.answered / elapsed).toFixed(0)}/s)
  echo round trip p50 / p99 / max    ${pct(0.5)} / ${pct(0.99)} / ${latencies.at(-1)?.toFixed(2) ?? "-"} ms
  cancelled mid-flight               ${stats.cancelled}  (answered anyway, which is allowed: ${stats.answeredAfterCancel})
  sockets closed mid-request         ${stats.midRequestCloses}  (reconnects ${stats.reconnects})
  raw TCP clients dropped abruptly   ${stats.abruptDrops}
  connect failures                   ${stats.connectFailures}
  server-initiated closes            ${stats.unexpectedCloses}
  wrong answers                      ${stats.wrong}${wrongSamples.map((s) => `\n    ${s}`).join("")}
  UNANSWERED ON OPEN CONNECTIONS     ${unanswered}  (over ${openAtEnd} connections open at the end; must be 0)
  server sessions after all closed   ${after.sessions}  (connections ${after.connections}; must be 0)
  server RSS before                  ${mb(before.rss)}  (heap ${mb(before.heap)})
  server RSS peak / under load       ${mb(peak)} / ${mb(loaded.rss)}  (heap ${mb(loaded.heap)})
  server RSS after (all closed${SETTLE ? `, ${SETTLE} s later` : ""}${after.gc ? ", full GC" : ""})  ${
    mb(after.rss)
  }  (${delta(before.rss, after.rss)}; heap ${mb(after.heap)}, ${delta(before.heap, after.heap)})
`);

  const ok = unanswered === 0 && stats.wrong === 0 && stats.unexpectedCloses === 0 && after.sessions === 0 &&
    after.connections === 0;
  console.log(ok ? "soak: OK" : "soak: FAILED");
  process.exit(ok ? 0 : 1);
}
