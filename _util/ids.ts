// Random ids for what the library names (sessions, tasks, cluster instances): base64url, so that
// they fit a header, a URL and a Redis key as they are.

/** Bytes in base64url (RFC 4648 §5), without padding. */
export function base64url(bytes: Uint8Array): string {
  let s = "";
  // In slices: spreading a large array into one call overflows the stack.
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The bytes of base64url text, with or without padding; throws on anything else. */
export function fromBase64url(text: string): Uint8Array {
  const bin = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** `n` random bytes as base64url: unguessable where n ≥ 16. */
export function randomId(n: number): string {
  return base64url(crypto.getRandomValues(new Uint8Array(n)));
}
