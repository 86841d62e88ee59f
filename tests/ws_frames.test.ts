// Unit tests of bench/ws_frames.ts, the WebSocket frame codec that the raw clients of the tests
// (tests/testdata/helpers.ts, legacy_server.ts, limits and hostile tests) and of the benchmarks
// (bench/raw_ws.ts, bench/soak.ts) share.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { encodeFrame, FrameReader, type FrameReaderOptions } from "../bench/ws_frames.ts";

type Read = [opcode: number, fin: boolean, payload: Uint8Array | undefined];

/** Reads `chunks` with a fresh reader, returning the frames it delivered. */
function read(chunks: Uint8Array[], options?: FrameReaderOptions): Read[] {
  const out: Read[] = [];
  const reader = new FrameReader((op, fin, payload) => out.push([op, fin, payload]), options);
  for (const c of chunks) reader.push(c);
  return out;
}

const bytes = (n: number) => new Uint8Array(n).map((_, i) => (i * 7 + 3) & 0xff);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), o += p.length);
  return out;
};

describe("encodeFrame", () => {
  test("the header: FIN, opcode, mask bit and the three length forms", () => {
    for (const [n, head] of [[0, 2], [125, 2], [126, 4], [65535, 4], [65536, 10]]) {
      const f = encodeFrame(0x2, bytes(n));
      assert.equal(f.length, head + 4 + n, `length ${n}`);
      assert.equal(f[0], 0x82);
      assert.equal(f[1] & 0x80, 0x80, "masked");
      const len7 = f[1] & 0x7f;
      if (head === 2) assert.equal(len7, n);
      else if (head === 4) assert.deepEqual([len7, (f[2] << 8) | f[3]], [126, n]);
      else assert.deepEqual([len7, Number(new DataView(f.buffer).getBigUint64(2))], [127, n]);
    }
    assert.equal(encodeFrame(0x0, "x", false)[0], 0x00, "a continuation without FIN");
  });

  test("the payload is masked with the given key (RFC 6455 5.3)", () => {
    const key = new Uint8Array([1, 2, 3, 4]);
    const f = encodeFrame(0x1, "abcde", true, key);
    assert.deepEqual([...f], [0x81, 0x85, 1, 2, 3, 4, 97 ^ 1, 98 ^ 2, 99 ^ 3, 100 ^ 4, 101 ^ 1]);
  });

  test("without a key each frame gets a fresh random one", () => {
    const keys = new Set(Array.from({ length: 8 }, () => encodeFrame(0x1, "x").subarray(2, 6).join()));
    assert.ok(keys.size > 1);
  });

  test("a null key makes an unmasked (server) frame", () => {
    assert.deepEqual([...encodeFrame(0x1, "hi", true, null)], [0x81, 2, 104, 105]);
    const f = encodeFrame(0x1, "x".repeat(300), true, null);
    assert.deepEqual([...f.subarray(0, 4)], [0x81, 126, 1, 44]);
    assert.equal(f.length, 304);
  });

  test("a string goes as UTF-8", () => {
    const f = encodeFrame(0x1, "é", true, null);
    assert.deepEqual([...f], [0x81, 2, 0xc3, 0xa9]);
  });
});

describe("FrameReader", () => {
  test("reads masked and unmasked frames of every length form back to their payloads", () => {
    for (const n of [0, 1, 125, 126, 65535, 65536, 70000]) {
      const payload = bytes(n);
      for (const mask of [undefined, null]) {
        const [[op, fin, got]] = read([encodeFrame(0x2, payload, true, mask)]);
        assert.deepEqual([op, fin], [0x2, true]);
        assert.deepEqual(got, payload, `length ${n}, ${mask === null ? "unmasked" : "masked"}`);
      }
    }
  });

  test("frames split anywhere, even byte by byte, and several in one chunk", () => {
    const frames = [
      encodeFrame(0x1, "first", false),
      encodeFrame(0x0, "x".repeat(200), true),
      encodeFrame(0x9, "ping", true, null),
      encodeFrame(0x2, bytes(70000), true, null),
    ];
    const all = concat(...frames);
    const expect = (got: Read[]) => {
      assert.deepEqual(got.map(([op, fin]) => [op, fin]), [[1, false], [0, true], [9, true], [2, true]]);
      assert.equal(new TextDecoder().decode(got[0][2]), "first");
      assert.equal(new TextDecoder().decode(got[1][2]), "x".repeat(200));
      assert.equal(new TextDecoder().decode(got[2][2]), "ping");
      assert.deepEqual(got[3][2], bytes(70000));
    };
    expect(read([all]));
    expect(read(Array.from(all, (b) => new Uint8Array([b]))));
    for (const size of [2, 3, 7, 1000]) {
      const chunks = [];
      for (let i = 0; i < all.length; i += size) chunks.push(all.subarray(i, i + size));
      expect(read(chunks));
    }
  });

  test("a payload is a fresh array: the chunk it came in may be reused", () => {
    const chunk = encodeFrame(0x1, "abc", true, null);
    const [[, , payload]] = read([chunk]);
    chunk.fill(0);
    assert.equal(new TextDecoder().decode(payload), "abc");
  });

  test("keep declines data frames (no payload) but never control frames", () => {
    const seen: [number, boolean][] = [];
    const got = read([
      concat(
        encodeFrame(0x1, "skip me", true, null),
        encodeFrame(0x8, new Uint8Array([3, 232]), true, null),
        encodeFrame(0x1, "keep me", true, null),
      ),
    ], { keep: (op, fin) => (seen.push([op, fin]), seen.length === 2) });
    assert.deepEqual(seen, [[1, true], [1, true]], "asked for data frames only");
    assert.equal(got[0][2], undefined);
    assert.deepEqual([...got[1][2]!], [3, 232]);
    assert.equal(new TextDecoder().decode(got[2][2]), "keep me");
  });

  test("with onMasked a masked frame stops the reading", () => {
    let masked = 0;
    const got = read([
      concat(encodeFrame(0x1, "ok", true, null), encodeFrame(0x1, "masked"), encodeFrame(0x1, "after", true, null)),
    ], { onMasked: () => masked++ });
    assert.equal(masked, 1);
    assert.deepEqual(got.map(([, , p]) => new TextDecoder().decode(p)), ["ok"]);
  });
});
