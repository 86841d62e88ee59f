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
  rt,
  stdinCommands,
} from "./common.ts";
import type { LoadConfig } from "./load.ts";

const cfg = JSON.parse(process.argv[2] ?? "{}") as LoadConfig;
const hardStop = setTimeout(() => {
  console.log(`FAILED ${JSON.stringify({ error: "deadline reached" })}`);
  process.exit(2);
}, cfg.deadline ?? 120_000);

/** Every SAMPLE_EVERY-th answer of a connection is decoded and checked (its first one too). */
const SAMPLE_EVERY = 256;
const MASK = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
const enc = new TextEncoder();
const dec = new TextDecoder();

// ---------------------------------------------------------------------------
// Frames

/** A masked client text (or other opcode) frame carrying `payload`. */
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
// Sockets: Deno.connect, or Bun.connect on Bun

interface Sock {
  /** Writes all of `b`; resolves once the runtime has taken it (undefined: taken already). */
  write(b: Uint8Array): Promise<void> | undefined;
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
    const buf = new Uint8Array(256 * 1024);
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
  return {
    async write(b) {
      for (let o = 0; o < b.length;) o += await conn.write(o ? b.subarray(o) : b);
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
  // Bun's socket.write() writes what it can now and returns how much: the rest waits for the drain callback.
  let pending: { b: Uint8Array; done: () => void } | undefined;
  const flush = (s: BunSocket) => {
    while (pending) {
      const n = s.write(pending.b);
      if (n < 0) return h.end(new Error("write failed"));
      if (n < pending.b.length) {
        pending.b = pending.b.subarray(n);
        return;
      }
      const done = pending.done;
      pending = undefined;
      done();
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
      const n = s.write(b);
      if (n === b.length) return undefined;
      if (n < 0) return Promise.reject(new Error("write failed"));
      return new Promise<void>((done) => (pending = { b: b.subarray(n), done }));
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
// One connection

class RawConn {
  sock!: Sock;
  /** Index into RING of the next request to send. */
  next = 0;
  /** Requests to send as soon as the write under way is done. */
  toSend = 0;
  writing = false;
  /** Control frames (pong, close) to send before the next requests. */
  extra: Uint8Array[] = [];
  closed = false;
  closeSent = false;
  error = "";
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
  #handshake: ((head: string, rest: Uint8Array) => void) | undefined;
  #head = new Uint8Array(0);
  // Frame parser state: a header split across reads is gathered in #hdr.
  #hdr = new Uint8Array(14);
  #hlen = 0;
  /** Payload bytes of the current frame still to come. */
  #skip = 0;
  #fin = false;
  #op = 0;
  /** The current frame's payload, when it is kept (control frames, sampled or initializing answers). */
  #cap: Uint8Array | undefined;
  #capPos = 0;
  #count = 0;

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
    const req = `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
      `Sec-WebSocket-Protocol: mcp\r\n\r\n`;
    await this.sock.write(enc.encode(req));
    const { head, rest } = await Promise.race([headDone, failed]);
    const status = head.slice(0, head.indexOf("\r\n"));
    if (!/^HTTP\/1\.1 101\b/.test(status)) throw new Error(`upgrade refused: ${status}`);
    const accept = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(head)?.[1];
    const digest = await crypto.subtle.digest("SHA-1", enc.encode(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
    if (accept !== btoa(String.fromCharCode(...new Uint8Array(digest)))) {
      throw new Error(`bad Sec-WebSocket-Accept: ${accept}`);
    }
    if (rest.length) this.#frames(rest);
    if (cfg.init) {
      const answer = new Promise<string>((resolve) => (this.onMessage = resolve));
      this.#send(textFrame(initializeFrame(0)));
      const text = await Promise.race([answer, failed]);
      if (!text.includes('"result"')) throw new Error(`initialize failed: ${text.slice(0, 200)}`);
      this.#send(textFrame(INITIALIZED));
    }
    this.onMessage = undefined;
    this.#fail = () => {};
  }

  #fail: (e: Error) => void = () => {};

  #end(e?: unknown) {
    if (this.closed) return;
    this.closed = true;
    this.error ||= e ? String((e as Error)?.message ?? e) : "connection closed by the server";
    this.#fail(new Error(this.error));
  }

  /** Queues a whole frame (handshake phase, control frames) and starts the writer. */
  #send(frame: Uint8Array) {
    this.extra.push(frame);
    this.pump();
  }

  /** Sends `k` more requests (batched with whatever is still to send). */
  request(k: number) {
    this.toSend += k;
    this.sent += k;
    if (!this.writing) this.pump();
  }

  pump() {
    if (this.writing || this.closed) return;
    this.writing = true;
    for (;;) {
      let b: Uint8Array;
      if (this.extra.length) b = this.extra.shift()!;
      else if (this.toSend > 0) {
        const k = Math.min(this.toSend, R);
        b = RING.buf.subarray(RING.off[this.next], RING.off[this.next + k]);
        this.writes++;
        this.toSend -= k;
        this.next = (this.next + k) % R;
      } else break;
      const p = this.sock.write(b);
      if (p) {
        p.then(() => {
          this.writing = false;
          this.pump();
        }, (e) => this.#end(e));
        return;
      }
    }
    this.writing = false;
  }

  #data(b: Uint8Array) {
    if (this.#handshake) {
      // The 101 response, up to its blank line; any bytes after it are already frames.
      const all = new Uint8Array(this.#head.length + b.length);
      all.set(this.#head);
      all.set(b, this.#head.length);
      this.#head = all;
      let end = -1;
      for (let i = 3; i < all.length && end < 0; i++) {
        if (all[i] === 10 && all[i - 1] === 13 && all[i - 2] === 10 && all[i - 3] === 13) end = i + 1;
      }
      if (end < 0) return;
      const done = this.#handshake;
      this.#handshake = undefined;
      return done(dec.decode(all.subarray(0, end)), all.slice(end));
    }
    this.reads++;
    this.#frames(b);
  }

  /** Scans the server's frames in `b` (unmasked): counts complete text messages, keeps only what it must. */
  #frames(b: Uint8Array) {
    const n = b.length;
    let p = 0;
    this.#count = 0;
    while (p < n) {
      if (this.#skip > 0) {
        const s = Math.min(this.#skip, n - p);
        if (this.#cap) {
          this.#cap.set(b.subarray(p, p + s), this.#capPos);
          this.#capPos += s;
        }
        p += s;
        this.#skip -= s;
        if (this.#skip === 0) this.#frameDone();
        continue;
      }
      // A header: straight from the chunk when it is all there, else gathered in #hdr across reads.
      let h: Uint8Array, q: number;
      if (this.#hlen === 0 && n - p >= 2 && n - p >= headerLength(b[p + 1])) {
        h = b;
        q = p;
        p += headerLength(b[p + 1]);
      } else {
        this.#hdr[this.#hlen++] = b[p++];
        if (this.#hlen < 2 || this.#hlen < headerLength(this.#hdr[1])) continue;
        h = this.#hdr;
        q = 0;
        this.#hlen = 0;
      }
      this.#header(h, q);
    }
    if (this.#count) this.onAnswers(this.#count);
  }

  #header(h: Uint8Array, q: number) {
    const b0 = h[q], b1 = h[q + 1];
    if (b1 & 0x80) return this.#end(new Error("masked frame from the server"));
    let len = b1 & 0x7f;
    if (len === 126) len = (h[q + 2] << 8) | h[q + 3];
    else if (len === 127) {
      len = 0;
      for (let i = 2; i < 10; i++) len = len * 256 + h[q + i];
    }
    this.#fin = (b0 & 0x80) !== 0;
    this.#op = b0 & 0x0f;
    const keep = this.#op >= 0x8 || this.onMessage !== undefined ||
      (this.#fin && this.#op === 0x1 && this.answers % SAMPLE_EVERY === 0);
    this.#cap = keep ? new Uint8Array(len) : undefined;
    this.#capPos = 0;
    this.#skip = len;
    if (len === 0) this.#frameDone();
  }

  #frameDone() {
    const op = this.#op;
    if (op <= 0x2) {
      if (!this.#fin) return; // a fragment: the message is counted at its last frame
      if (this.onMessage) {
        if (this.#cap) this.onMessage(dec.decode(this.#cap));
        return;
      }
      if (this.#cap) {
        const text = dec.decode(this.#cap);
        this.checked++;
        if (!text.includes('"result"') || isError(text)) {
          this.bad++;
          this.firstBad ||= text.slice(0, 300);
        }
      }
      this.answers++;
      this.#count++;
    } else if (op === 0x9) {
      this.#send(clientFrame(this.#cap!, 0xa)); // pong with the ping's payload
    } else if (op === 0x8) {
      const code = this.#cap!.length >= 2 ? (this.#cap![0] << 8) | this.#cap![1] : 1005;
      this.error ||= `close frame from the server (${code})`;
      if (!this.closeSent) {
        this.closeSent = true;
        this.#send(clientFrame(this.#cap!.subarray(0, 2), 0x8));
      }
      setTimeout(() => this.sock.close(), 100);
      this.#end();
    }
    this.#cap = undefined;
  }

  /** Sends a close frame (1000), then closes the socket. */
  close() {
    if (!this.closed && !this.closeSent) {
      this.closeSent = true;
      this.#send(clientFrame(new Uint8Array([0x03, 0xe8]), 0x8));
    }
    setTimeout(() => this.sock.close(), 50);
  }
}

/** Bytes of a server frame's header, from its second byte (no mask key: server frames are unmasked). */
const headerLength = (b1: number) => {
  const l = b1 & 0x7f;
  return l < 126 ? 2 : l === 126 ? 4 : 10;
};

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
