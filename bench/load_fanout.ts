// The fan-out load client of bench/cluster.ts: many WebSocket subscriber sessions, spoken by hand over plain TCP
// (bench/raw_ws.ts, as bench/load_raw.ts does, so that 10,000 of them cost little), and one trigger connection.
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
import { cpuSeconds, INITIALIZED, initializeFrame, onStdinLines, percentile } from "./common.ts";
import { dec, RawWebSocket, textFrame } from "./raw_ws.ts";

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

const UPDATED = "notifications/resources/updated";

// ---------------------------------------------------------------------------
// One WebSocket connection: handshake, then whole text messages to onText (with the time of the read they came in)

class Conn extends RawWebSocket {
  onText: (text: string, now: number) => void = (text) => this.#answer(text);
  #waiting = new Map<number, (text: string) => void>();
  #frag: Uint8Array[] = [];
  /** When the chunk being read came in. */
  #now = 0;

  constructor(readonly instance: number) {
    super();
  }

  open(url: URL): Promise<void> {
    return this.upgrade(url, 8192, false);
  }

  /** Sends a request and resolves with the text of its answer (setup only). */
  call(id: number, text: string): Promise<string> {
    const answer = new Promise<string>((resolve) => this.#waiting.set(id, resolve));
    this.send(text);
    return Promise.race([answer, this.failed]);
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
    this.sendFrame(textFrame(text));
  }

  protected override received(b: Uint8Array) {
    this.#now = performance.now();
    this.readFrames(b);
  }

  protected override keep(): boolean {
    return true;
  }

  protected override message(fin: boolean, payload: Uint8Array | undefined) {
    if (!fin || this.#frag.length) {
      this.#frag.push(payload!);
      if (!fin) return;
      const whole = this.#frag.reduce((a, x) => concat(a, x), new Uint8Array(0));
      this.#frag = [];
      this.onText(dec.decode(whole), this.#now);
    } else this.onText(dec.decode(payload!), this.#now);
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
