// Unit tests of request_state.ts: the sealed requestState of multi round-trip requests
// (2026-07-28), which the client echoes back and so may have forged, altered, replayed elsewhere or
// kept too long.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, McpError } from "../jsonrpc.ts";
import { type StateBody, StateSealer } from "../request_state.ts";

const HOUR = 3_600_000;

/** Asserts that opening `state` is refused with invalid params, the message matching `why`. */
async function refused(sealer: StateSealer, state: unknown, binding: string, why: RegExp): Promise<void> {
  await assert.rejects(sealer.open(state, binding), (e: unknown) => {
    assert.ok(e instanceof McpError, "an McpError");
    assert.equal(e.code, ErrorCode.InvalidParams);
    assert.match(e.message, /^Invalid requestState: /);
    assert.match(e.message, why);
    return true;
  });
}

/** The base64url text of a string's UTF-8 bytes. */
const b64url = (s: string) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(s))).replaceAll("+", "-").replaceAll("/", "_").replace(
    /=+$/,
    "",
  );

/** Flips one character of base64url text to another valid one. */
const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);

describe("StateSealer: binding", () => {
  test("binds to the parts: the same parts give the same digest, any change another", async () => {
    const sealer = new StateSealer("secret");
    const parts = ["tools/call", "book", { city: "Paris" }, "alice"];
    const b = await sealer.binding(parts);
    assert.match(b, /^[A-Za-z0-9_-]{43}$/, "a SHA-256 digest in base64url, unpadded");
    assert.equal(await sealer.binding([...parts]), b);
    assert.equal(await sealer.bindingOf(JSON.stringify(parts)), b);
    assert.notEqual(await sealer.binding(["tools/call", "book", { city: "Rome" }, "alice"]), b);
    assert.notEqual(await sealer.binding(["tools/call", "book", { city: "Paris" }, "bob"]), b);
    assert.notEqual(await sealer.binding(["prompts/get", "book", { city: "Paris" }, "alice"]), b);
  });

  test("the binding does not depend on the secret: every instance computes the same", async () => {
    assert.equal(await new StateSealer("one").binding(["x"]), await new StateSealer("two").binding(["x"]));
  });
});

describe("StateSealer: seal and open", () => {
  test("a sealed state opens to the same body", async () => {
    const sealer = new StateSealer("secret");
    const b = await sealer.binding(["tools/call", "t", {}, "alice"]);
    const body: StateBody = {
      b,
      r: { name: { action: "accept", content: { name: "Ada" } }, n: 2 },
      e: Date.now() + HOUR,
    };
    const state = await sealer.seal(body);
    assert.equal(typeof state, "string");
    assert.match(state, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, "payload.signature, both base64url: it fits JSON and URLs");
    assert.deepEqual(await sealer.open(state, b), body);
  });

  test("with a random secret (none given) a sealer still opens its own states", async () => {
    const sealer = new StateSealer();
    const state = await sealer.seal({ b: "x", r: {}, e: Date.now() + HOUR });
    assert.equal((await sealer.open(state, "x")).b, "x");
  });

  test("a state bound to one call is refused for another", async () => {
    const sealer = new StateSealer("secret");
    const alice = await sealer.binding(["tools/call", "t", {}, "alice"]);
    const bob = await sealer.binding(["tools/call", "t", {}, "bob"]);
    const state = await sealer.seal({ b: alice, r: {}, e: Date.now() + HOUR });
    await refused(sealer, state, bob, /different request or caller/);
    assert.equal((await sealer.open(state, alice)).b, alice);
  });

  test("an expired state is refused", async () => {
    const sealer = new StateSealer("secret");
    const state = await sealer.seal({ b: "x", r: {}, e: Date.now() - 1 });
    await refused(sealer, state, "x", /expired/);
    const fresh = await sealer.seal({ b: "x", r: {}, e: Date.now() + 1000 });
    assert.equal((await sealer.open(fresh, "x")).e > Date.now(), true);
  });

  test("a state that expires while it travels is refused when it comes back", async () => {
    const sealer = new StateSealer("secret");
    const state = await sealer.seal({ b: "x", r: {}, e: Date.now() + 30 });
    assert.ok(await sealer.open(state, "x"));
    await new Promise((r) => setTimeout(r, 60));
    await refused(sealer, state, "x", /expired/);
  });
});

describe("StateSealer: forged and altered states", () => {
  test("an altered payload is refused: its signature no longer matches", async () => {
    const sealer = new StateSealer("secret");
    const state = await sealer.seal({ b: "x", r: { n: 1 }, e: Date.now() + HOUR });
    const [payload, sig] = state.split(".");
    // A new body the client would like, with the old signature.
    const forged = b64url(JSON.stringify({ b: "x", r: { n: 1000 }, e: Date.now() + 100 * HOUR }));
    await refused(sealer, `${forged}.${sig}`, "x", /signature mismatch/);
    for (const i of [0, Math.floor(payload.length / 2), payload.length - 2]) {
      await refused(sealer, `${flip(payload, i)}.${sig}`, "x", /signature mismatch/);
    }
  });

  test("an altered signature is refused", async () => {
    const sealer = new StateSealer("secret");
    const state = await sealer.seal({ b: "x", r: {}, e: Date.now() + HOUR });
    const dot = state.indexOf(".");
    await refused(sealer, flip(state, dot + 1), "x", /signature mismatch/);
    await refused(sealer, flip(state, state.length - 3), "x", /signature mismatch/);
  });

  test("another state's signature does not open this payload", async () => {
    const sealer = new StateSealer("secret");
    const a = await sealer.seal({ b: "x", r: { who: "a" }, e: Date.now() + HOUR });
    const b = await sealer.seal({ b: "x", r: { who: "b" }, e: Date.now() + HOUR });
    await refused(sealer, `${a.split(".")[0]}.${b.split(".")[1]}`, "x", /signature mismatch/);
  });

  test("a truncated state is refused", async () => {
    const sealer = new StateSealer("secret");
    const state = await sealer.seal({ b: "x", r: {}, e: Date.now() + HOUR });
    const dot = state.indexOf(".");
    await refused(sealer, state.slice(0, -4), "x", /signature mismatch/);
    await refused(sealer, state.slice(0, dot + 1), "x", /signature mismatch/);
    await refused(sealer, state.slice(0, dot), "x", /not a string this server issued/);
    await refused(sealer, state.slice(1), "x", /signature mismatch/);
    // One character short of a base64 quantum cannot even be decoded.
    await refused(sealer, `${state.slice(0, dot)}.A`, "x", /malformed signature/);
  });

  test("what is not a sealed string is refused", async () => {
    const sealer = new StateSealer("secret");
    for (const v of [undefined, null, 42, {}, ["a.b"], ""]) {
      await refused(sealer, v, "x", /not a string this server issued/);
    }
    await refused(sealer, "no dot here", "x", /not a string this server issued/);
    await refused(sealer, "a.!!!", "x", /malformed signature/);
  });

  test("an oversized state is refused before any work on it", async () => {
    const sealer = new StateSealer("secret");
    await refused(sealer, `${"A".repeat(1_000_001)}.AAAA`, "x", /not a string this server issued/);
  });

  test("an unsigned state (signature of nothing) is refused", async () => {
    const sealer = new StateSealer("secret");
    const payload = b64url(JSON.stringify({ b: "x", r: {}, e: Date.now() + HOUR }));
    await refused(sealer, `${payload}.`, "x", /signature mismatch/);
  });
});

describe("StateSealer: secrets", () => {
  test("two sealers with different secrets do not open each other's states", async () => {
    const one = new StateSealer("first secret"), two = new StateSealer("second secret");
    const body: StateBody = { b: "x", r: {}, e: Date.now() + HOUR };
    await refused(two, await one.seal(body), "x", /signature mismatch/);
    await refused(one, await two.seal(body), "x", /signature mismatch/);
    // Two random secrets differ too.
    await refused(new StateSealer(), await new StateSealer().seal(body), "x", /signature mismatch/);
  });

  test("instances sharing a secret open each other's states; a string and its UTF-8 bytes are the same secret", async () => {
    const a = new StateSealer("shared"), b = new StateSealer("shared");
    const c = new StateSealer(new TextEncoder().encode("shared"));
    const state = await a.seal({ b: "x", r: { k: 1 }, e: Date.now() + HOUR });
    assert.deepEqual((await b.open(state, "x")).r, { k: 1 });
    assert.deepEqual((await c.open(state, "x")).r, { k: 1 });
  });
});
