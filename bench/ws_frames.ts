// WebSocket frames (RFC 6455) by hand: the one frame encoder and the one frame reader of the raw clients and servers
// of the benchmarks (raw_ws.ts, soak.ts) and of the tests (tests/testdata/helpers.ts, legacy_server.ts,
// tests/limits.test.ts, tests/hostile.test.ts). Bench and test code only: no imports.

const utf8 = new TextEncoder();

/**
 * One frame: `opcode`, FIN when `fin`, carrying `payload` (a string goes as UTF-8). Masked with `mask` (a client's
 * frame: a fresh random key unless one is given), or unmasked when `mask` is null (a server's frame).
 */
export function encodeFrame(
  opcode: number,
  payload: Uint8Array | string,
  fin = true,
  mask: Uint8Array | null = crypto.getRandomValues(new Uint8Array(4)),
): Uint8Array {
  const data = typeof payload === "string" ? utf8.encode(payload) : payload;
  const len = data.length;
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const key = mask ? 4 : 0;
  const out = new Uint8Array(head + key + len);
  out[0] = (fin ? 0x80 : 0) | opcode;
  const m = mask ? 0x80 : 0;
  if (len < 126) out[1] = m | len;
  else if (len < 65536) (out[1] = m | 126, out[2] = len >> 8, out[3] = len & 0xff);
  else (out[1] = m | 127, new DataView(out.buffer).setBigUint64(2, BigInt(len)));
  if (!mask) {
    out.set(data, head);
    return out;
  }
  out.set(mask.subarray(0, 4), head);
  const p = head + 4;
  for (let i = 0; i < len; i++) out[p + i] = data[i] ^ mask[i & 3];
  return out;
}

/** Bytes of a frame's header, from its second byte: length bytes, and the masking key if the frame is masked. */
const headerLength = (b1: number) => {
  const l = b1 & 0x7f;
  return (l < 126 ? 2 : l === 126 ? 4 : 10) + (b1 & 0x80 ? 4 : 0);
};

export interface FrameReaderOptions {
  /**
   * Whether to keep the payload of the data frame starting now (`opcode`, `fin`); a frame not kept reaches the
   * callback with no payload, its bytes skipped uncopied. Control frames are always kept. Default: every frame.
   */
  keep?: (opcode: number, fin: boolean) => boolean;
  /**
   * Called on a masked frame, which ends the reading (everything after it is ignored): a client refusing a server's
   * masked frame. Without it, masked frames are unmasked (a server reading a client's frames).
   */
  onMasked?: () => void;
}

/**
 * Reads frames from a byte stream, chunk by chunk (`push`): a frame, or its header, may be split across chunks, and
 * a chunk may hold many frames. Each whole frame goes to `onFrame` with its opcode, FIN bit and payload (unmasked, a
 * fresh array), or undefined when `keep` declined it.
 */
export class FrameReader {
  readonly #onFrame: (opcode: number, fin: boolean, payload: Uint8Array | undefined) => void;
  readonly #keep: ((opcode: number, fin: boolean) => boolean) | undefined;
  readonly #onMasked: (() => void) | undefined;
  #stopped = false;
  // A header split across chunks is gathered in #hdr.
  #hdr = new Uint8Array(14);
  #hlen = 0;
  /** Payload bytes of the current frame still to come. */
  #skip = 0;
  #fin = false;
  #op = 0;
  /** The current frame's masking key, when it is masked. */
  #mask: Uint8Array | undefined;
  /** The current frame's payload, when it is kept. */
  #cap: Uint8Array | undefined;
  #capPos = 0;

  constructor(
    onFrame: (opcode: number, fin: boolean, payload: Uint8Array | undefined) => void,
    options: FrameReaderOptions = {},
  ) {
    this.#onFrame = onFrame;
    this.#keep = options.keep;
    this.#onMasked = options.onMasked;
  }

  /** Reads the frames in `b`, the next bytes of the stream (not kept: it may be reused once this returns). */
  push(b: Uint8Array): void {
    const n = b.length;
    let p = 0;
    while (p < n && !this.#stopped) {
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
      // A header: straight from the chunk when it is all there, else gathered in #hdr across chunks.
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
  }

  #header(h: Uint8Array, q: number) {
    const b0 = h[q], b1 = h[q + 1];
    let len = b1 & 0x7f, off = 2;
    if (len === 126) (len = (h[q + 2] << 8) | h[q + 3], off = 4);
    else if (len === 127) {
      len = 0;
      for (let i = 2; i < 10; i++) len = len * 256 + h[q + i];
      off = 10;
    }
    if (b1 & 0x80) {
      if (this.#onMasked) {
        this.#stopped = true;
        return this.#onMasked();
      }
      this.#mask = h.slice(q + off, q + off + 4);
    } else this.#mask = undefined;
    this.#fin = (b0 & 0x80) !== 0;
    this.#op = b0 & 0x0f;
    const keep = this.#op >= 0x8 || !this.#keep || this.#keep(this.#op, this.#fin);
    this.#cap = keep ? new Uint8Array(len) : undefined;
    this.#capPos = 0;
    this.#skip = len;
    if (len === 0) this.#frameDone();
  }

  #frameDone() {
    const cap = this.#cap, mask = this.#mask;
    this.#cap = undefined;
    if (cap && mask) { for (let i = 0; i < cap.length; i++) cap[i] ^= mask[i & 3]; }
    this.#onFrame(this.#op, this.#fin, cap);
  }
}
