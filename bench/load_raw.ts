// A cheap WebSocket load client for the throughput mode: the WebSocket protocol spoken by hand over a plain TCP
// socket, so that the server, not the client, is the bottleneck (bench/hotpath.ts, `--client raw`).
//   deno run -A bench/load_raw.ts '<json LoadConfig>'     or     bun bench/load_raw.ts '<json LoadConfig>'
// Same line protocol and RESULT fields as bench/load.ts (mode "throughput", proto "ws" only): prints `READY` once
// its connections are open (and initialized), waits for `GO <startAt epoch ms> <duration ms>`, keeps `window`
// requests in flight on each connection until startAt + duration, prints `RESULT {json}` and exits; a hard
// deadline ends it whatever happens.
//
// Where it saves: the tools/call frames are built and masked once (ids cycling over a ring), so sending k
// requests is one write of a slice of a prebuilt buffer; the server's frames are counted by scanning their
// headers, never decoded. Every connection's first answer and every SAMPLE_EVERY-th one after it are decoded and
// must be a result (not an error): a server answering errors cannot look fast. Pings are answered with pongs, a
// close frame is answered and ends the connection (an error).
import process from "node:process";
import {
  callFrame as legacyCallFrame,
  cpuSeconds,
  INITIALIZED,
  initializeFrame,
  modernCallFrame,
  stdinCommands,
} from "./common.ts";
import type { LoadConfig } from "./load.ts";
import { dec, RawWebSocket, textFrame } from "./raw_ws.ts";

const cfg = JSON.parse(process.argv[2] ?? "{}") as LoadConfig;
const hardStop = setTimeout(() => {
  console.log(`FAILED ${JSON.stringify({ error: "deadline reached" })}`);
  process.exit(2);
}, cfg.deadline ?? 120_000);

/** Every SAMPLE_EVERY-th answer of a connection is decoded and checked (its first one too). */
const SAMPLE_EVERY = 256;

/**
 * The requests, prebuilt: tools/call frames for ids 1..R, twice over, back to back, so that any run of up to R
 * frames starting at index i < R is the contiguous slice ring[off[i] .. off[i + k]].
 */
const W = cfg.window ?? 1;
const R = Math.max(1024, 2 * W);
const callText = cfg.modern ? modernCallFrame : legacyCallFrame;
const RING = (() => {
  const frames = Array.from({ length: R }, (_, i) => textFrame(callText(i + 1)));
  const off = new Uint32Array(2 * R + 1);
  for (let i = 0; i < 2 * R; i++) off[i + 1] = off[i] + frames[i % R].length;
  const buf = new Uint8Array(off[2 * R]);
  for (let i = 0; i < 2 * R; i++) buf.set(frames[i % R], off[i]);
  return { buf, off };
})();

const isError = (frame: string) => frame.includes('"error"') || frame.includes('"isError":true');

// ---------------------------------------------------------------------------
// One connection

class RawConn extends RawWebSocket {
  /** Index into RING of the next request to send. */
  next = 0;
  /** Requests to send as soon as the write under way is done. */
  toSend = 0;
  /** Requests sent (asked for) and answers (complete text messages) counted, since initialize. */
  sent = 0;
  answers = 0;
  /** Chunks read and writes of requests, from GO on (how well reads and writes batch). */
  reads = 0;
  writes = 0;
  /** Sampled answers, and how many of them were not results. */
  checked = 0;
  bad = 0;
  firstBad = "";
  /** While connecting and initializing: every message is decoded and handed here. */
  onMessage: ((text: string) => void) | undefined;
  /** Called once per chunk read with the number of answers it completed. */
  onAnswers: (k: number) => void = () => {};
  #count = 0;

  async open(url: URL): Promise<void> {
    await this.upgrade(url, 256 * 1024, true);
    if (cfg.init) {
      const answer = new Promise<string>((resolve) => (this.onMessage = resolve));
      this.sendFrame(textFrame(initializeFrame(0)));
      const text = await Promise.race([answer, this.failed]);
      if (!text.includes('"result"')) throw new Error(`initialize failed: ${text.slice(0, 200)}`);
      this.sendFrame(textFrame(INITIALIZED));
    }
    this.onMessage = undefined;
  }

  /** Sends `k` more requests (batched with whatever is still to send). */
  request(k: number) {
    this.toSend += k;
    this.sent += k;
    this.pump();
  }

  /** The next requests: one slice of RING. */
  protected override more(): Uint8Array | undefined {
    if (this.toSend <= 0) return undefined;
    const k = Math.min(this.toSend, R);
    const b = RING.buf.subarray(RING.off[this.next], RING.off[this.next + k]);
    this.writes++;
    this.toSend -= k;
    this.next = (this.next + k) % R;
    return b;
  }

  /** Counts complete text messages, decoding only the sampled ones (and all while initializing). */
  protected override received(b: Uint8Array) {
    this.reads++;
    this.#count = 0;
    this.readFrames(b);
    if (this.#count) this.onAnswers(this.#count);
  }

  protected override keep(fin: boolean, op: number): boolean {
    return this.onMessage !== undefined || (fin && op === 0x1 && this.answers % SAMPLE_EVERY === 0);
  }

  protected override message(fin: boolean, payload: Uint8Array | undefined) {
    if (!fin) return; // a fragment: the message is counted at its last frame
    if (this.onMessage) {
      if (payload) this.onMessage(dec.decode(payload));
      return;
    }
    if (payload) {
      const text = dec.decode(payload);
      this.checked++;
      if (!text.includes('"result"') || isError(text)) {
        this.bad++;
        this.firstBad ||= text.slice(0, 300);
      }
    }
    this.answers++;
    this.#count++;
  }
}

// ---------------------------------------------------------------------------
// stdin commands and the measurement

const nextCommand = stdinCommands();

/** performance.now() at the epoch-ms time `at`. */
const perfAt = (at: number) => performance.now() + (at - Date.now());

async function throughput(): Promise<void> {
  if (cfg.mode !== "throughput" || cfg.proto !== "ws") {
    throw new Error(`load_raw.ts does only mode "throughput" over "ws" (got ${cfg.mode} over ${cfg.proto})`);
  }
  const url = new URL(cfg.url);
  const conns: RawConn[] = [];
  const opened = await Promise.allSettled(Array.from({ length: cfg.conns }, async () => {
    const c = new RawConn();
    conns.push(c);
    await c.open(url);
  }));
  const failed = opened.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
  if (failed.length) {
    throw new Error(`${failed.length} connections failed to open: ${String(failed[0].reason?.message ?? "")}`);
  }

  console.log("READY");
  const [startAt, duration] = (await nextCommand("GO")).split(/\s+/).map(Number);
  const start = perfAt(startAt), end = perfAt(startAt + duration);
  let cpu0 = NaN, cpu1 = NaN;
  setTimeout(() => (cpu0 = cpuSeconds()), Math.max(0, start - performance.now()));
  setTimeout(() => (cpu1 = cpuSeconds()), Math.max(0, end - performance.now()));

  let count = 0, outstanding = 0, lost = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  for (const c of conns) {
    // One clock reading per chunk read: every answer in it arrived at the same time.
    c.onAnswers = (k) => {
      const now = performance.now();
      if (now >= start && now < end) count += k;
      if (now < end) c.request(k);
      else if ((outstanding -= k) <= 0) resolveDone();
    };
    c.reads = c.writes = 0;
    c.request(W);
    outstanding += W;
  }
  // Connections the server closes stop answering: the window waits for them no longer than the others.
  await Promise.race([done, new Promise((r) => setTimeout(r, end - performance.now() + 5000))]);
  for (const c of conns) {
    if (c.closed) lost++;
    c.close();
  }
  const checked = conns.reduce((a, c) => a + c.checked, 0);
  // After the drain every request has its answer: more answers than requests would be a miscount.
  const unanswered = conns.reduce((a, c) => a + Math.abs(c.sent - c.answers), 0);
  const errors = conns.reduce((a, c) => a + c.bad, 0) + unanswered;
  const firstBad = conns.find((c) => c.firstBad)?.firstBad;
  const closed = conns.find((c) => c.closed)?.error;
  clearTimeout(hardStop);
  console.log(
    `RESULT ${
      JSON.stringify({
        count,
        errors,
        cpu: cpu1 - cpu0,
        seconds: (end - start) / 1000,
        client: "raw",
        checked,
        reads: conns.reduce((a, c) => a + c.reads, 0),
        writes: conns.reduce((a, c) => a + c.writes, 0),
        ...(unanswered ? { unanswered } : {}),
        ...(lost ? { lost, closed } : {}),
        ...(firstBad ? { firstBad } : {}),
      })
    }`,
  );
  setTimeout(() => process.exit(0), 100);
}

try {
  await throughput();
} catch (e) {
  console.log(`FAILED ${JSON.stringify({ error: String((e as Error)?.message ?? e) })}`);
  process.exit(1);
}
