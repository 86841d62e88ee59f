// The load client: one process of it drives one server over loopback.
// Run by bench/run.ts (on Bun by default), never by hand:
//   bun bench/load.ts '<json config>'
// Protocol: prints `READY` once its connections are up (and initialized), then
// waits for `GO <startAt epoch ms> <duration ms>` on stdin, sends until
// startAt + duration, prints `RESULT {json}` and exits. In "idle" mode it
// answers `open N` with `OPENED {json}` and exits on `close`.
// Every loop here is bounded: by the window, by `maxOutstanding`, and by a hard
// deadline after which the process exits.
import process from "node:process";
import {
  callFrame as legacyCallFrame,
  cpuSeconds,
  INITIALIZED,
  initializeFrame,
  modernCallFrame,
  PROTOCOL_VERSION,
  stdinCommands,
} from "./common.ts";

export interface LoadConfig {
  mode: "throughput" | "latency" | "idle" | "probe";
  proto: "ws" | "http";
  url: string;
  /** Send initialize + notifications/initialized first (MCP servers; the raw echo answers anything). */
  init: boolean;
  /** HTTP: keep an Mcp-Session-Id per connection (stateful servers). */
  stateful?: boolean;
  /** HTTP: the Accept header (default `application/json, text/event-stream`). */
  accept?: string;
  /** Connections (WebSocket) or sessions / concurrent request loops (HTTP). */
  conns: number;
  /** Throughput: requests kept in flight per connection. */
  window?: number;
  /** Latency: requests per second this client offers, spread round-robin over its connections. */
  rate?: number;
  /** Protocol 2026-07-28: no initialize, the protocol version rides in each request's _meta. */
  modern?: boolean;
  /** Hard deadline in ms after which the process exits whatever happens. */
  deadline?: number;
}

const cfg = JSON.parse(process.argv[2] ?? "{}") as LoadConfig;
const callFrame = cfg.modern ? modernCallFrame : legacyCallFrame;
const hardStop = setTimeout(() => {
  console.log(`FAILED ${JSON.stringify({ error: "deadline reached" })}`);
  process.exit(2);
}, cfg.deadline ?? 120_000);

const HTTP_HEADERS: Record<string, string> = {
  "content-type": "application/json",
  accept: cfg.accept ?? "application/json, text/event-stream",
  "mcp-protocol-version": PROTOCOL_VERSION,
};

// ---------------------------------------------------------------------------
// stdin commands

const nextCommand = stdinCommands();

// ---------------------------------------------------------------------------
// WebSocket connections

interface WsConn {
  ws: WebSocket;
  nextId: number;
  /** Send times (performance.now) of requests awaiting an answer, FIFO: one socket keeps order. */
  sent: number[];
  head: number;
  onAnswer: (c: WsConn, frame: string) => void;
}

function openWs(): Promise<WsConn> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(cfg.url, "mcp");
    const c: WsConn = { ws, nextId: 1, sent: [], head: 0, onAnswer: () => {} };
    let phase = cfg.init ? 0 : 1;
    ws.onopen = () => {
      if (phase === 0) ws.send(initializeFrame(0));
      else resolve(c);
    };
    ws.onerror = () => reject(new Error("websocket error"));
    ws.onclose = (e) => {
      if (phase === 0) reject(new Error(`closed during initialize (${e.code})`));
    };
    ws.onmessage = (e) => {
      if (phase === 0) {
        const text = String(e.data);
        if (!text.includes('"result"')) return reject(new Error(`initialize failed: ${text.slice(0, 200)}`));
        ws.send(INITIALIZED);
        phase = 1;
        return resolve(c);
      }
      c.onAnswer(c, e.data as string);
    };
  });
}

/** Opens `n` connections, at most `parallel` handshakes at a time. */
async function openMany<T>(n: number, open: () => Promise<T>, parallel = 64): Promise<{ conns: T[]; errors: number }> {
  const conns: T[] = [];
  let errors = 0;
  let started = 0;
  const worker = async () => {
    while (started < n) {
      started++;
      try {
        conns.push(await open());
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
  return { conns, errors };
}

// ---------------------------------------------------------------------------
// HTTP sessions

interface HttpConn {
  nextId: number;
  /** The request headers: with the session's Mcp-Session-Id and the negotiated protocol version. */
  headers: Record<string, string>;
}

async function openHttp(): Promise<HttpConn> {
  const c: HttpConn = { nextId: 1, headers: HTTP_HEADERS };
  if (!cfg.init && !cfg.stateful) return c;
  const res = await fetch(cfg.url, { method: "POST", headers: HTTP_HEADERS, body: initializeFrame(0) });
  const body = await res.text();
  if (!res.ok || !body.includes('"result"')) throw new Error(`initialize failed: ${res.status} ${body.slice(0, 200)}`);
  const session = res.headers.get("mcp-session-id");
  // Servers that do not speak PROTOCOL_VERSION answer with an older one: later requests carry that one.
  const version = /"protocolVersion"\s*:\s*"([^"]+)"/.exec(body)?.[1] ?? PROTOCOL_VERSION;
  c.headers = { ...HTTP_HEADERS, "mcp-protocol-version": version, ...(session ? { "mcp-session-id": session } : {}) };
  const ack = await fetch(cfg.url, { method: "POST", headers: c.headers, body: INITIALIZED });
  await ack.arrayBuffer();
  return c;
}

/** One tools/call over HTTP; resolves to whether the answer was a result. */
async function httpCall(c: HttpConn): Promise<boolean> {
  const res = await fetch(cfg.url, { method: "POST", headers: c.headers, body: callFrame(c.nextId++) });
  const body = await res.text();
  return res.ok && body.includes('"result"') && !body.includes('"isError":true');
}

// ---------------------------------------------------------------------------
// Measurement

/** performance.now() at the epoch-ms time `at`. */
const perfAt = (at: number) => performance.now() + (at - Date.now());
const isError = (frame: string) => frame.includes('"error"') || frame.includes('"isError":true');

interface Window {
  start: number;
  end: number;
  cpu0: number;
  cpu1: number;
}

async function awaitGo(): Promise<Window> {
  console.log("READY");
  const [startAt, duration] = (await nextCommand("GO")).split(/\s+/).map(Number);
  const w: Window = { start: perfAt(startAt), end: perfAt(startAt + duration), cpu0: NaN, cpu1: NaN };
  setTimeout(() => (w.cpu0 = cpuSeconds()), Math.max(0, w.start - performance.now()));
  setTimeout(() => (w.cpu1 = cpuSeconds()), Math.max(0, w.end - performance.now()));
  return w;
}

function finish(result: Record<string, unknown>): never {
  clearTimeout(hardStop);
  console.log(`RESULT ${JSON.stringify(result)}`);
  process.exit(0);
}

async function throughput(): Promise<void> {
  const W = cfg.window ?? 1;
  let count = 0, errors = 0;
  if (cfg.proto === "ws") {
    const { conns, errors: openErrors } = await openMany(cfg.conns, openWs);
    if (openErrors) throw new Error(`${openErrors} connections failed to open`);
    const w = await awaitGo();
    let outstanding = 0;
    const done = new Promise<void>((resolve) => {
      for (const c of conns) {
        c.onAnswer = (c, frame) => {
          const now = performance.now();
          if (now >= w.start && now < w.end) {
            count++;
            if (isError(frame)) errors++;
          }
          if (now < w.end) c.ws.send(callFrame(c.nextId++));
          else if (--outstanding === 0) resolve();
        };
        for (let i = 0; i < W; i++, outstanding++) c.ws.send(callFrame(c.nextId++));
      }
    });
    await Promise.race([done, new Promise((r) => setTimeout(r, w.end - performance.now() + 5000))]);
    for (const c of conns) c.ws.close();
    finish({ count, errors, cpu: w.cpu1 - w.cpu0, seconds: (w.end - w.start) / 1000 });
  } else {
    const { conns, errors: openErrors } = await openMany(cfg.conns, openHttp, 16);
    if (openErrors) throw new Error(`${openErrors} sessions failed to initialize`);
    const w = await awaitGo();
    const loop = async (c: HttpConn) => {
      for (let now = performance.now(); now < w.end; now = performance.now()) {
        let ok = false;
        try {
          ok = await httpCall(c);
        } catch {
          ok = false;
        }
        const t = performance.now();
        if (t >= w.start && t < w.end) {
          count++;
          if (!ok) errors++;
        }
      }
    };
    await Promise.all(conns.flatMap((c) => Array.from({ length: W }, () => loop(c))));
    finish({ count, errors, cpu: w.cpu1 - w.cpu0, seconds: (w.end - w.start) / 1000 });
  }
}

async function latency(): Promise<void> {
  const rate = cfg.rate ?? 1000;
  const interval = 1000 / rate;
  const maxOutstanding = 4096;
  const lat: number[] = []; // send → answer, ms
  const latCo: number[] = []; // intended send time → answer (corrects for a late client), ms
  let errors = 0, skipped = 0, outstanding = 0, sentInWindow = 0;
  const record = (intended: number, sent: number, now: number, w: Window, failed: boolean) => {
    outstanding--;
    if (sent < w.start || sent >= w.end) return;
    lat.push(now - sent);
    latCo.push(now - intended);
    if (failed) errors++;
  };
  let send: (i: number, intended: number, w: Window) => void;
  let close: () => void;
  if (cfg.proto === "ws") {
    const { conns, errors: openErrors } = await openMany(cfg.conns, openWs);
    if (openErrors) throw new Error(`${openErrors} connections failed to open`);
    const intendedOf = new Map<WsConn, number[]>(conns.map((c) => [c, []]));
    send = (i, intended, w) => {
      const c = conns[i % conns.length];
      c.sent.push(performance.now());
      intendedOf.get(c)!.push(intended);
      c.onAnswer = (c, frame) => {
        const now = performance.now();
        const k = c.head++;
        record(intendedOf.get(c)![k], c.sent[k], now, w, isError(frame));
        if (c.head > 4096) {
          c.sent.splice(0, c.head);
          intendedOf.get(c)!.splice(0, c.head);
          c.head = 0;
        }
      };
      c.ws.send(callFrame(c.nextId++));
    };
    close = () => conns.forEach((c) => c.ws.close());
  } else {
    const { conns, errors: openErrors } = await openMany(cfg.conns, openHttp, 16);
    if (openErrors) throw new Error(`${openErrors} sessions failed to initialize`);
    send = (i, intended, w) => {
      const sent = performance.now();
      httpCall(conns[i % conns.length]).then(
        (ok) => record(intended, sent, performance.now(), w, !ok),
        () => record(intended, sent, performance.now(), w, true),
      );
    };
    close = () => {};
  }
  const w = await awaitGo();
  // Warm up at the same rate from now until the window opens.
  const t0 = performance.now();
  let i = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      if (now >= w.end) return resolve();
      for (let due = t0 + i * interval; due <= now; due = t0 + ++i * interval) {
        if (outstanding >= maxOutstanding) {
          if (due >= w.start) skipped++;
          continue;
        }
        outstanding++;
        if (due >= w.start) sentInWindow++;
        send(i, due, w);
      }
      setTimeout(tick, 1);
    };
    tick();
  });
  // Let the answers to the window's last requests arrive (bounded).
  for (let k = 0; k < 100 && outstanding > 0; k++) await new Promise((r) => setTimeout(r, 20));
  close();
  finish({
    lat: lat.map((x) => Math.round(x * 1000)), // µs
    latCo: latCo.map((x) => Math.round(x * 1000)),
    sent: sentInWindow,
    skipped,
    lost: outstanding,
    errors,
    cpu: w.cpu1 - w.cpu0,
    seconds: (w.end - w.start) / 1000,
  });
}

async function idle(): Promise<void> {
  const held: WsConn[] = [];
  console.log("READY");
  for (let k = 0; k < 100; k++) {
    const cmd = await Promise.race([nextCommand("open"), nextCommand("close")]);
    if (cmd === "" || !/^\d+$/.test(cmd)) break; // "close"
    const target = Number(cmd);
    const t = performance.now();
    const { conns, errors } = await openMany(Math.max(0, target - held.length), openWs, 128);
    held.push(...conns);
    console.log(`OPENED ${JSON.stringify({ held: held.length, errors, ms: performance.now() - t })}`);
  }
  for (const c of held) c.ws.close();
  await new Promise((r) => setTimeout(r, 200));
  finish({ held: held.length });
}

/**
 * Cold-start probe: answers `probe <url> <init 0|1>` with `PROBED {json}` once the first tools/call
 * (or, for the raw echo, the first frame) has been answered. A separate client process, because
 * Deno's WebSocket client does not set TCP_NODELAY: its second small frame in a row (the call right
 * after notifications/initialized) waits ~40 ms for the server's delayed ACK.
 */
async function probe(): Promise<void> {
  console.log("READY");
  for (let k = 0; k < 1000; k++) {
    const cmd = await Promise.race([nextCommand("probe"), nextCommand("close").then(() => "")]);
    if (!cmd) break;
    const [url, init] = cmd.split(/\s+/);
    const t = performance.now();
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no answer within 10 s")), 10_000);
        const ws = new WebSocket(url, "mcp");
        let phase = init === "1" ? 0 : 1;
        ws.onopen = () => ws.send(phase === 0 ? initializeFrame(0) : callFrame(1));
        ws.onerror = () => (clearTimeout(timer), reject(new Error("websocket error")));
        ws.onmessage = (e) => {
          if (phase === 0) {
            phase = 1;
            ws.send(INITIALIZED);
            ws.send(callFrame(1));
            return;
          }
          clearTimeout(timer);
          ws.close();
          resolve(String(e.data));
        };
      });
      if (!answer.includes('"result"')) throw new Error(`bad answer: ${answer.slice(0, 200)}`);
      console.log(`PROBED ${JSON.stringify({ ms: performance.now() - t })}`);
    } catch (e) {
      console.log(`PROBED ${JSON.stringify({ error: String((e as Error)?.message ?? e) })}`);
    }
  }
  finish({});
}

try {
  if (cfg.mode === "probe") await probe();
  else if (cfg.mode === "throughput") await throughput();
  else if (cfg.mode === "latency") await latency();
  else await idle();
} catch (e) {
  console.log(`FAILED ${JSON.stringify({ error: String((e as Error)?.message ?? e) })}`);
  process.exit(1);
}
