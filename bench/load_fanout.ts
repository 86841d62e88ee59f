// The fan-out load client of bench/cluster.ts: many WebSocket subscriber sessions, spoken by hand over plain TCP
// (as bench/load_raw.ts does, so that 10,000 of them cost little), and one trigger connection.
//   bun bench/load_fanout.ts '<json FanoutConfig>'        (or deno run -A bench/load_fanout.ts '<json>')
// Each subscriber sends initialize, notifications/initialized and resources/subscribe { uri } and waits for the
// answers; subscribers go round-robin over `urls` (one per instance), so each instance holds subs / urls.length.
// The trigger connection (to `trigger`, default urls[0]) is initialized and subscribes to nothing.
// Line protocol (stdin/stdout, as bench/load.ts): prints `READY {json}` once every session is subscribed, then
//   RUN <updates> <gap ms> <warm-up updates>
//       For each update: sends tools/call touch { uri } on the trigger connection and times every subscriber's
//       notifications/resources/updated from the moment the call was written (one clock: this process's
//       performance.now()), waits for all of them (or a timeout), then `gap` ms. Before the updates, 20 tools/call of
//       `echo` on the same connection time the tool-call round trip alone. Prints `RESULT {json}`.
//   EXPECT <arrivals> <timeout ms>
//       Counts arrivals from now on (says `EXPECTING`); prints `GOT {json}` once there are that many (or at the
//       timeout).
//   exit
// A hard deadline ends it whatever happens.
import process from "node:process";
import { cpuSeconds, INITIALIZED, initializeFrame, onStdinLines, percentile, rt } from "./common.ts";

export interface FanoutConfig {
  /** The instances' WebSocket endpoints. */
  urls: string[];
  /** Subscriber sessions in all. */
  subs: number;
  /** The URI every subscriber subscribes to. */
  uri: string;
  /** Where the trigger connection goes (default urls[0]). */
  trigger?: string;
  /** Sessions being opened at once (default 200). */
  concurrency?: number;
  /** Ms to wait for one update's arrivals (default 10,000). */
  timeout?: number;
  /** Hard deadline in ms (default 300,000). */
  deadline?: number;
}

const cfg = JSON.parse(process.argv[2] ?? "{}") as FanoutConfig;
const hardStop = setTimeout(() => {
  console.log(`FAILED ${JSON.stringify({ error: "deadline reached" })}`);
  process.exit(2);
}, cfg.deadline ?? 300_000);

const MASK = new Uint8Array([0x4b, 0x1d, 0xe2, 0x90]);
const enc = new TextEncoder();
const dec = new TextDecoder();
const UPDATED = "notifications/resources/updated";

function clientFrame(payload: Uint8Array, opcode = 0x1): Uint8Array {
  const n = payload.length;
  const ext = n < 126 ? 0 : n < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + ext + 4 + n);
  out[0] = 0x80 | opcode;
  if (ext === 0) out[1] = 0x80 | n;
  else if (ext === 2) {
    out[1] = 0x80 | 126;
    out[2] = n >> 8;
    out[3] = n & 0xff;
  } else {
    out[1] = 0x80 | 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(n));
  }
  const p = 2 + ext;
  out.set(MASK, p);
  for (let i = 0; i < n; i++) out[p + 4 + i] = payload[i] ^ MASK[i & 3];
  return out;
}
const textFrame = (s: string) => clientFrame(enc.encode(s));

// ---------------------------------------------------------------------------
// Sockets: Bun.connect on Bun, Deno.connect on Deno

interface Sock {
  write(b: Uint8Array): void;
  close(): void;
}
interface SockHandlers {
  data(b: Uint8Array): void;
  end(err?: unknown): void;
}

async function connectDeno(host: string, port: number, h: SockHandlers): Promise<Sock> {
  const conn = await Deno.connect({ hostname: host, port });
  conn.setNoDelay(true);
  (async () => {
    const buf = new Uint8Array(8192);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        h.data(buf.subarray(0, n));
      }
      h.end();
    } catch (e) {
      h.end(e);
    }
  })();
  // Writes are small and rare: chained so that they stay in order.
  let chain: Promise<unknown> = Promise.resolve();
  return {
    write(b) {
      chain = chain.then(async () => {
        for (let o = 0; o < b.length;) o += await conn.write(o ? b.subarray(o) : b);
      }).catch((e) => h.end(e));
    },
    close() {
      try {
        conn.close();
      } catch { /* closed already */ }
    },
  };
}

interface BunSocket {
  write(b: Uint8Array): number;
  end(): void;
  setNoDelay?(on: boolean): void;
}

async function connectBun(host: string, port: number, h: SockHandlers): Promise<Sock> {
  const queue: Uint8Array[] = [];
  const flush = (s: BunSocket) => {
    while (queue.length) {
      const b = queue[0];
      const n = s.write(b);
      if (n < 0) return h.end(new Error("write failed"));
      if (n < b.length) {
        queue[0] = b.subarray(n);
        return;
      }
      queue.shift();
    }
  };
  const s: BunSocket = await rt.Bun.connect({
    hostname: host,
    port,
    socket: {
      data: (_s: BunSocket, d: Uint8Array) => h.data(d),
      drain: (s: BunSocket) => flush(s),
      close: () => h.end(),
      error: (_s: BunSocket, e: unknown) => h.end(e),
    },
  });
  s.setNoDelay?.(true);
  return {
    write(b) {
      queue.push(b);
      if (queue.length === 1) flush(s);
    },
    close() {
      try {
        s.end();
      } catch { /* closed already */ }
    },
  };
}

const connect = rt.Bun ? connectBun : connectDeno;

// ---------------------------------------------------------------------------
// One WebSocket connection: handshake, then whole text messages to onText (with the time of the read they came in)

class Conn {
  sock!: Sock;
  closed = false;
  error = "";
  onText: (text: string, now: number) => void = () => {};
  #handshake: ((head: string, rest: Uint8Array) => void) | undefined;
  #buf: Uint8Array | undefined;
  #fail: (e: Error) => void = () => {};
  #waiting = new Map<number, (text: string) => void>();
  #frag: Uint8Array[] = [];

  constructor(readonly instance: number) {}

  async open(url: URL): Promise<void> {
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const headDone = new Promise<{ head: string; rest: Uint8Array }>((resolve) => {
      this.#handshake = (head, rest) => resolve({ head, rest });
    });
    const failed = new Promise<never>((_, reject) => (this.#fail = reject));
    this.sock = await connect(url.hostname, Number(url.port || 80), {
      data: (b) => this.#data(b),
      end: (e) => this.#end(e),
    });
    this.sock.write(enc.encode(
      `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
        `Sec-WebSocket-Protocol: mcp\r\n\r\n`,
    ));
    const { head, rest } = await Promise.race([headDone, failed]);
    const status = head.slice(0, head.indexOf("\r\n"));
    if (!/^HTTP\/1\.1 101\b/.test(status)) throw new Error(`upgrade refused: ${status}`);
    this.onText = (text) => this.#answer(text);
    if (rest.length) this.#frames(rest, performance.now());
    this.#opened = failed;
  }
  #opened: Promise<never> | undefined;

  /** Sends a request and resolves with the text of its answer (setup only). */
  call(id: number, text: string): Promise<string> {
    const answer = new Promise<string>((resolve) => this.#waiting.set(id, resolve));
    this.send(text);
    return Promise.race([answer, this.#opened!]);
  }

  #answer(text: string) {
    const m = /^\{"jsonrpc":"2\.0","id":(\d+)/.exec(text) ?? /"id":(\d+)/.exec(text);
    if (!m) return;
    const w = this.#waiting.get(Number(m[1]));
    if (w) {
      this.#waiting.delete(Number(m[1]));
      w(text);
    }
  }

  send(text: string) {
    this.sock.write(textFrame(text));
  }

  #end(e?: unknown) {
    if (this.closed) return;
    this.closed = true;
    this.error ||= e ? String((e as Error)?.message ?? e) : "connection closed by the server";
    this.#fail(new Error(this.error));
  }

  #data(b: Uint8Array) {
    if (this.#handshake) {
      const all = this.#buf ? concat(this.#buf, b) : b.slice();
      this.#buf = undefined;
      let end = -1;
      for (let i = 3; i < all.length && end < 0; i++) {
        if (all[i] === 10 && all[i - 1] === 13 && all[i - 2] === 10 && all[i - 3] === 13) end = i + 1;
      }
      if (end < 0) return void (this.#buf = all);
      const done = this.#handshake;
      this.#handshake = undefined;
      return done(dec.decode(all.subarray(0, end)), all.slice(end));
    }
    this.#frames(b, performance.now());
  }

  #frames(chunk: Uint8Array, now: number) {
    let b = chunk;
    if (this.#buf) {
      b = concat(this.#buf, chunk);
      this.#buf = undefined;
    }
    let p = 0;
    while (p < b.length) {
      if (b.length - p < 2) break;
      const b0 = b[p], b1 = b[p + 1];
      let len = b1 & 0x7f, h = 2;
      if (len === 126) {
        if (b.length - p < 4) break;
        len = (b[p + 2] << 8) | b[p + 3];
        h = 4;
      } else if (len === 127) {
        if (b.length - p < 10) break;
        len = 0;
        for (let i = 2; i < 10; i++) len = len * 256 + b[p + i];
        h = 10;
      }
      if (b.length - p < h + len) break;
      const payload = b.subarray(p + h, p + h + len);
      p += h + len;
      const op = b0 & 0x0f, fin = (b0 & 0x80) !== 0;
      if (op === 0x9) this.sock.write(clientFrame(payload.slice(), 0xa));
      else if (op === 0x8) {
        this.error ||= `close frame from the server (${len >= 2 ? (payload[0] << 8) | payload[1] : 1005})`;
        this.sock.write(clientFrame(payload.slice(0, 2), 0x8));
        this.#end();
      } else if (op <= 0x2) {
        if (!fin || this.#frag.length) {
          this.#frag.push(payload.slice());
          if (!fin) continue;
          const whole = this.#frag.reduce((a, x) => concat(a, x), new Uint8Array(0));
          this.#frag = [];
          this.onText(dec.decode(whole), now);
        } else this.onText(dec.decode(payload), now);
      }
    }
    if (p < b.length) this.#buf = b.slice(p);
  }

  close() {
    if (!this.closed) this.sock.write(clientFrame(new Uint8Array([0x03, 0xe8]), 0x8));
    setTimeout(() => this.sock.close(), 50);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

// ---------------------------------------------------------------------------
// Opening the sessions

const urls = cfg.urls.map((u) => new URL(u));
const subscribeFrame = (id: number) =>
  JSON.stringify({ jsonrpc: "2.0", id, method: "resources/subscribe", params: { uri: cfg.uri } });

async function session(instance: number, url: URL, subscribe: boolean): Promise<Conn> {
  const c = new Conn(instance);
  await c.open(url);
  const init = await c.call(0, initializeFrame(0));
  if (!init.includes('"result"')) throw new Error(`initialize failed: ${init.slice(0, 200)}`);
  c.send(INITIALIZED);
  if (subscribe) {
    const sub = await c.call(1, subscribeFrame(1));
    if (!sub.includes('"result"')) throw new Error(`resources/subscribe failed: ${sub.slice(0, 200)}`);
  }
  return c;
}

const subs: Conn[] = [];
const t0 = performance.now();
{
  let next = 0;
  const errors: string[] = [];
  const worker = async () => {
    while (next < cfg.subs) {
      const i = next++;
      const inst = i % urls.length;
      try {
        subs.push(await session(inst, urls[inst], true));
      } catch (e) {
        errors.push(String((e as Error)?.message ?? e));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(cfg.subs, cfg.concurrency ?? 200) }, worker));
  if (errors.length) {
    console.log(`FAILED ${JSON.stringify({ error: `${errors.length} sessions failed to open: ${errors[0]}` })}`);
    process.exit(1);
  }
}
const openMs = performance.now() - t0;
const trigger = await session(0, new URL(cfg.trigger ?? cfg.urls[0]), false).catch((e) => {
  console.log(`FAILED ${JSON.stringify({ error: `the trigger connection failed: ${(e as Error)?.message ?? e}` })}`);
  process.exit(1);
});
const perInstance = urls.map((_, i) => subs.filter((c) => c.instance === i).length);

// Arrivals: every subscriber's notifications/resources/updated for the URI, timed at the read it came in.
let onArrival: (c: Conn, now: number) => void = () => {};
let unexpected = 0;
const needle = `"uri":${JSON.stringify(cfg.uri)}`;
for (const c of subs) {
  c.onText = (text, now) => {
    if (text.includes(UPDATED) && text.includes(needle)) onArrival(c, now);
    else unexpected++;
  };
}
// The trigger's answers: by id.
const answers = new Map<number, (now: number, text: string) => void>();
trigger.onText = (text, now) => {
  const m = /"id":(\d+)/.exec(text);
  const w = m && answers.get(Number(m[1]));
  if (w) {
    answers.delete(Number(m[1]));
    w(now, text);
  }
};
let nextId = 10;
/** Sends a tools/call on the trigger connection; resolves with [sent at, answered at]. */
function callTool(name: string, args: Record<string, unknown>): { sentAt: number; answered: Promise<number> } {
  const id = nextId++;
  const answered = new Promise<number>((resolve, reject) =>
    answers.set(id, (now, text) => {
      if (!text.includes('"result"') || text.includes('"isError":true')) {
        reject(new Error(`tools/call ${name} failed: ${text.slice(0, 200)}`));
      } else resolve(now);
    })
  );
  const frame = JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });
  const sentAt = performance.now();
  trigger.send(frame);
  return { sentAt, answered };
}

console.log(`READY ${JSON.stringify({ openMs, perInstance })}`);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const timeout = cfg.timeout ?? 10_000;

async function run(updates: number, gap: number, warmup: number): Promise<Record<string, unknown>> {
  // The tool-call round trip alone.
  const echoRtt: number[] = [];
  for (let i = 0; i < 20; i++) {
    const { sentAt, answered } = callTool("echo", { text: "ping" });
    echoRtt.push(await answered - sentAt);
  }
  const n = subs.length;
  const lat = new Float64Array(updates * n);
  const byInstance = urls.map(() => [] as number[]);
  const lastArrival: number[] = [];
  // Per update: the last arrival at instance 1 (where the update is raised) and the first at any other instance.
  const localLast: number[] = [];
  const remoteFirst: number[] = [];
  const touchRtt: number[] = [];
  let lost = 0, duplicates = 0, stored = 0;
  const cpu0 = cpuSeconds();
  for (let u = -warmup; u < updates; u++) {
    const seen = new Set<Conn>();
    let count = 0, last = 0, lLast = 0, rFirst = Infinity;
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    let sentAt = 0;
    onArrival = (c, now) => {
      if (seen.has(c)) return void duplicates++;
      seen.add(c);
      const ms = now - sentAt;
      if (u >= 0) {
        lat[stored++] = ms;
        byInstance[c.instance].push(ms);
      }
      last = Math.max(last, ms);
      if (c.instance === 0) lLast = Math.max(lLast, ms);
      else rFirst = Math.min(rFirst, ms);
      if (++count === n) done();
    };
    const call = callTool("touch", { uri: cfg.uri });
    sentAt = call.sentAt;
    const answeredAt = await call.answered;
    await Promise.race([all, sleep(timeout)]);
    onArrival = () => void duplicates++;
    if (u < 0) continue;
    lost += n - count;
    touchRtt.push(answeredAt - sentAt);
    lastArrival.push(last);
    localLast.push(lLast);
    if (rFirst < Infinity) remoteFirst.push(rFirst);
    await sleep(gap);
  }
  const cpu = cpuSeconds() - cpu0;
  const sorted = lat.subarray(0, stored).sort();
  const pct = (s: Float64Array | number[]) => ({
    p50: percentile(s, 0.5),
    p90: percentile(s, 0.9),
    p99: percentile(s, 0.99),
    max: s.length ? s[s.length - 1] : NaN,
  });
  const med = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 0.5);
  return {
    subs: n,
    perInstance,
    updates,
    arrivals: stored,
    lost,
    duplicates,
    unexpected,
    closed: subs.filter((c) => c.closed).length,
    ...pct(sorted),
    instances: byInstance.map((xs) => ({ n: xs.length, ...pct(new Float64Array(xs).sort()) })),
    /** Per update: when the last subscriber had it (median over updates). */
    lastArrival: med(lastArrival),
    localLast: med(localLast),
    remoteFirst: remoteFirst.length ? med(remoteFirst) : NaN,
    touchRtt: med(touchRtt),
    echoRtt: med(echoRtt),
    echoRttP99: percentile([...echoRtt].sort((a, b) => a - b), 0.99),
    clientCpu: cpu,
  };
}

const lines: string[] = [];
let wake: () => void = () => {};
onStdinLines((line) => {
  lines.push(line);
  wake();
});
async function nextLine(): Promise<string> {
  while (!lines.length) await new Promise<void>((r) => (wake = r));
  return lines.shift()!;
}
for (;;) {
  const [cmd, ...rest] = (await nextLine()).split(/\s+/);
  if (cmd === "exit") break;
  const args = rest.map(Number);
  if (cmd === "RUN") {
    try {
      console.log(`RESULT ${JSON.stringify(await run(args[0], args[1], args[2] ?? 2))}`);
    } catch (e) {
      console.log(`FAILED ${JSON.stringify({ error: String((e as Error)?.message ?? e) })}`);
    }
  } else if (cmd === "EXPECT") {
    const [want, ms] = args;
    let got = 0;
    const t = performance.now();
    let done!: () => void;
    const all = new Promise<void>((r) => (done = r));
    onArrival = () => {
      if (++got >= want) done();
    };
    console.log("EXPECTING");
    await Promise.race([all, sleep(ms)]);
    onArrival = () => {};
    console.log(`GOT ${JSON.stringify({ arrivals: got, ms: performance.now() - t })}`);
  }
}
for (const c of [...subs, trigger]) c.close();
clearTimeout(hardStop);
setTimeout(() => process.exit(0), 200);
