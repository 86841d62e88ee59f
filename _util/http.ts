// HTTP request and response pieces the Streamable HTTP transport shares between its versions.

import { ErrorCode } from "../jsonrpc.ts";

/** A JSON-RPC error (id absent) as an HTTP response with `status`. */
export function rpcError(
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ jsonrpc: "2.0", error: { code, message } }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

const JSON_TYPE = { "content-type": "application/json" };

/** Frames as one JSON body (an array for several), or 202 when there are none. */
export function jsonResponse(frames: string[], headers?: Record<string, string>, status = 200): Response {
  if (!frames.length) return new Response(null, { status: 202, headers });
  const body = frames.length === 1 ? frames[0] : `[${frames.join(",")}]`;
  return new Response(body, { status, headers: headers ? { ...JSON_TYPE, ...headers } : JSON_TYPE });
}

// What MCP clients send: answered without splitting the header.
const BOTH_HEADER = "application/json, text/event-stream";
const BOTH = Object.freeze({ json: true, sse: true });

/** Which of JSON and SSE the client accepts; no Accept header accepts both. */
export function accepts(req: Request): { json: boolean; sse: boolean } {
  const header = req.headers.get("accept");
  if (!header || header === BOTH_HEADER) return BOTH;
  const types = header.split(",").map((t) => t.split(";")[0].trim().toLowerCase());
  const any = types.includes("*/*");
  return {
    json: any || types.includes("application/json") || types.includes("application/*"),
    sse: any || types.includes("text/event-stream") || types.includes("text/*"),
  };
}

export const notAcceptable = (): Response =>
  rpcError(406, ErrorCode.InvalidRequest, "Not Acceptable: accept application/json and text/event-stream");

/** The body as text, at most `max` bytes; a refusal (413, 400) otherwise. */
export function readBody(req: Request, max: number): Promise<string | Response> {
  const length = req.headers.get("content-length");
  const declared = Number(length ?? "0");
  if (declared > max) return Promise.resolve(tooLarge(max));
  // A declared length within the limit is all there is to read (framing holds the body to it): let the runtime
  // read it whole, far cheaper than a stream reader (and on Deno, without making a stream at all). Chunked
  // bodies are read piece by piece against the limit.
  if (length !== null && declared >= 0 && !req.headers.has("transfer-encoding")) {
    // Only a hand-built Request can hold more than it declares; it still may not exceed the limit.
    return req.text().then((text) => (text.length > max ? tooLarge(max) : text), unreadable);
  }
  return readChunks(req, max);
}

const tooLarge = (max: number) => rpcError(413, ErrorCode.InvalidRequest, `Request body larger than ${max} bytes`);
const unreadable = () => rpcError(400, ErrorCode.InvalidRequest, "Bad Request: the request body could not be read");

async function readChunks(req: Request, max: number): Promise<string | Response> {
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) {
        await reader.cancel().catch(() => {});
        return tooLarge(max);
      }
      chunks.push(value);
    }
  } catch {
    return unreadable();
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) (all.set(c, at), at += c.byteLength);
  return new TextDecoder().decode(all);
}
