// The client side of WebSocket spoken by hand over a plain TCP socket, shared by the raw load clients
// (bench/load_raw.ts, bench/load_fanout.ts): masked client frames, the socket on Deno and on Bun, the upgrade
// handshake, an in-order writer, and a reader of the server's frames (ws_frames.ts) that keeps only the payloads it
// is asked to.
import { rt } from "./common.ts";
import { encodeFrame, FrameReader } from "./ws_frames.ts";

export const enc = new TextEncoder();
export const dec = new TextDecoder();
const MASK = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);

// ---------------------------------------------------------------------------
// Frames (ws_frames.ts): masked with one fixed key, so that a frame costs no random bytes

export const textFrame = (s: string): Uint8Array => encodeFrame(0x1, s, true, MASK);

// ---------------------------------------------------------------------------
// Sockets: Deno.connect, or Bun.connect on Bun

export interface Sock {
  /** Writes all of `b`; resolves once the runtime has taken it (undefined: taken already). One write at a time. */
  write(b: Uint8Array): Promise<void> | undefined;
  close(): void;
}
interface SockHandlers {
  data(b: Uint8Array): void;
  end(err?: unknown): void;
}

/** `readSize`: the bytes one read may bring (Deno). */
async function connectDeno(host: string, port: number, h: SockHandlers, readSize: number): Promise<Sock> {
  const conn = await Deno.connect({ hostname: host, port });
  conn.setNoDelay(true);
  (async () => {
    const buf = new Uint8Array(readSize);
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

const connect = (host: string, port: number, h: SockHandlers, readSize: number): Promise<Sock> =>
  rt.Bun ? connectBun(host, port, h) : connectDeno(host, port, h, readSize);

// ---------------------------------------------------------------------------
// One connection

/**
 * A WebSocket connection over a raw socket. Subclasses say which data frames to keep (`keep`), take them
 * (`message`), are handed each chunk read after the handshake (`received`, which passes it on to `readFrames`), and
 * may add what to write once the queued frames are out (`more`). Pings are answered with pongs; a close frame is
 * answered and ends the connection (an error).
 */
export abstract class RawWebSocket {
  sock!: Sock;
  closed = false;
  closeSent = false;
  error = "";
  /** Rejects once the connection ends (set by upgrade()): for racing against the answers awaited. */
  protected failed!: Promise<never>;
  /** Whole frames (control frames, requests while setting up) to send before whatever more() gives. */
  #queue: Uint8Array[] = [];
  #writing = false;
  #fail: (e: Error) => void = () => {};
  #handshake: ((head: string, rest: Uint8Array) => void) | undefined;
  #head = new Uint8Array(0);
  /** The server's frames: control frames are always kept, data frames as keep() says; a masked one ends it all. */
  #reader = new FrameReader((op, fin, payload) => this.#frame(op, fin, payload), {
    keep: (op, fin) => this.keep(fin, op),
    onMasked: () => this.end(new Error("masked frame from the server")),
  });

  /** Whether to keep the payload of the data frame starting now (else message() gets undefined). */
  protected abstract keep(fin: boolean, op: number): boolean;
  /** A data frame has come whole: its payload if kept (a fresh array), else undefined. */
  protected abstract message(fin: boolean, payload: Uint8Array | undefined): void;
  /** A chunk read after the handshake: it must reach readFrames(). */
  protected abstract received(b: Uint8Array): void;
  /** More to write once the queued frames are out (undefined: nothing now). */
  protected more(): Uint8Array | undefined {
    return undefined;
  }

  /**
   * Connects (`readSize`: the bytes one read may bring, on Deno), sends the upgrade request (subprotocol mcp) and
   * waits for the 101, checking Sec-WebSocket-Accept when `checkAccept`. Frames that came with the 101 go to
   * received().
   */
  protected async upgrade(url: URL, readSize: number, checkAccept: boolean): Promise<void> {
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const headDone = new Promise<{ head: string; rest: Uint8Array }>((resolve) => {
      this.#handshake = (head, rest) => resolve({ head, rest });
    });
    this.failed = new Promise<never>((_, reject) => (this.#fail = reject));
    this.sock = await connect(url.hostname, Number(url.port || 80), {
      data: (b) => this.#data(b),
      end: (e) => this.end(e),
    }, readSize);
    const req = `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
      `Sec-WebSocket-Protocol: mcp\r\n\r\n`;
    await this.sock.write(enc.encode(req));
    const { head, rest } = await Promise.race([headDone, this.failed]);
    const status = head.slice(0, head.indexOf("\r\n"));
    if (!/^HTTP\/1\.1 101\b/.test(status)) throw new Error(`upgrade refused: ${status}`);
    if (checkAccept) {
      const accept = /\r\nsec-websocket-accept:\s*(\S+)/i.exec(head)?.[1];
      const digest = await crypto.subtle.digest("SHA-1", enc.encode(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
      if (accept !== btoa(String.fromCharCode(...new Uint8Array(digest)))) {
        throw new Error(`bad Sec-WebSocket-Accept: ${accept}`);
      }
    }
    if (rest.length) this.received(rest);
  }

  protected end(e?: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.error ||= e ? String((e as Error)?.message ?? e) : "connection closed by the server";
    this.#fail(new Error(this.error));
  }

  /** Queues a whole frame and starts the writer. */
  sendFrame(frame: Uint8Array): void {
    this.#queue.push(frame);
    this.pump();
  }

  /** Writes the queued frames, then what more() gives, one write at a time, until there is nothing left. */
  pump(): void {
    if (this.#writing || this.closed) return;
    this.#writing = true;
    for (let b: Uint8Array | undefined; (b = this.#queue.shift() ?? this.more()) !== undefined;) {
      const p = this.sock.write(b);
      if (p) {
        p.then(() => {
          this.#writing = false;
          this.pump();
        }, (e) => this.end(e));
        return;
      }
    }
    this.#writing = false;
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
    this.received(b);
  }

  /** Reads the server's frames in `b` (unmasked), a frame or its header possibly split across chunks. */
  protected readFrames(b: Uint8Array): void {
    this.#reader.push(b);
  }

  #frame(op: number, fin: boolean, payload: Uint8Array | undefined) {
    if (op <= 0x2) this.message(fin, payload);
    else if (op === 0x9) {
      this.sendFrame(encodeFrame(0xa, payload!, true, MASK)); // pong with the ping's payload
    } else if (op === 0x8) {
      const code = payload!.length >= 2 ? (payload![0] << 8) | payload![1] : 1005;
      this.error ||= `close frame from the server (${code})`;
      if (!this.closeSent) {
        this.closeSent = true;
        this.sendFrame(encodeFrame(0x8, payload!.subarray(0, 2), true, MASK));
      }
      setTimeout(() => this.sock.close(), 100);
      this.end();
    }
  }

  /** Sends a close frame (1000), then closes the socket. */
  close(): void {
    if (!this.closed && !this.closeSent) {
      this.closeSent = true;
      this.sendFrame(encodeFrame(0x8, new Uint8Array([0x03, 0xe8]), true, MASK));
    }
    setTimeout(() => this.sock.close(), 50);
  }
}
