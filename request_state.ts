/**
 * Sealed `requestState` for multi round-trip requests (protocol 2026-07-28).
 *
 * The client echoes the state back unchanged, so it is attacker-controlled:
 * it is signed with HMAC-SHA-256, carries an expiry, and is bound to the
 * method, the target (tool, prompt or URI), the arguments and the caller.
 *
 * @module
 */

import { ErrorCode, McpError } from "./jsonrpc.ts";
import { base64url, fromBase64url } from "./_util/ids.ts";

/** What a sealed state carries between round trips. */
export interface StateBody {
  /** Binding: a digest of method, target, arguments and principal. */
  b: string;
  /** Answers collected so far, by input key. */
  r: Record<string, unknown>;
  /** Expiry, in milliseconds since the epoch. */
  e: number;
}

const enc = new TextEncoder();

/** Signs and checks request states with one key. */
export class StateSealer {
  #key: Promise<CryptoKey>;

  /** `secret` should be shared by every instance behind one load balancer; random when omitted. */
  constructor(secret?: string | Uint8Array) {
    const raw = secret === undefined
      ? crypto.getRandomValues(new Uint8Array(32))
      : typeof secret === "string"
      ? enc.encode(secret)
      : secret;
    this.#key = crypto.subtle.importKey("raw", raw as BufferSource, { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
  }

  /** A digest that binds a state to one call by one caller. */
  binding(parts: unknown[]): Promise<string> {
    return this.bindingOf(JSON.stringify(parts));
  }

  /** {@linkcode binding} of parts already serialized with JSON.stringify. */
  async bindingOf(partsJson: string): Promise<string> {
    const digest = await crypto.subtle.digest("SHA-256", enc.encode(partsJson));
    return base64url(new Uint8Array(digest));
  }

  /** Seals a body as `payload.signature`. */
  async seal(body: StateBody): Promise<string> {
    const payload = base64url(enc.encode(JSON.stringify(body)));
    const sig = await crypto.subtle.sign("HMAC", await this.#key, enc.encode(payload));
    return `${payload}.${base64url(new Uint8Array(sig))}`;
  }

  /** Opens a sealed state, or throws a -32602 error saying why it was refused. */
  async open(state: unknown, binding: string): Promise<StateBody> {
    const refuse = (why: string) => new McpError(ErrorCode.InvalidParams, `Invalid requestState: ${why}`);
    if (typeof state !== "string" || state.length > 1_000_000) throw refuse("not a string this server issued");
    const dot = state.indexOf(".");
    if (dot < 0) throw refuse("not a string this server issued");
    const payload = state.slice(0, dot);
    let sig: Uint8Array;
    try {
      sig = fromBase64url(state.slice(dot + 1));
    } catch {
      throw refuse("malformed signature");
    }
    const ok = await crypto.subtle.verify("HMAC", await this.#key, sig as BufferSource, enc.encode(payload));
    if (!ok) throw refuse("signature mismatch (tampered, or issued by another server)");
    const body = JSON.parse(new TextDecoder().decode(fromBase64url(payload))) as StateBody;
    if (body.e < Date.now()) throw refuse("expired; start the request again without requestState");
    if (body.b !== binding) throw refuse("issued for a different request or caller");
    return body;
  }
}
