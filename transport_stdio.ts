/**
 * MCP over stdio for Deno and Bun: newline-delimited JSON-RPC on stdin and
 * stdout, one session per process. Diagnostics go to stderr only; by default
 * `console.log` is redirected there too, so a stray log line cannot corrupt
 * the protocol stream.
 *
 * @module
 */

import { ErrorCode } from "./jsonrpc.ts";
import { coreOf, type McpServer } from "./server.ts";
import type { Session } from "./session.ts";
import type { CloseOptions } from "./channel.ts";
import { drainSessions, runtime } from "./_edge/admission.ts";

/** Options of {@linkcode serveStdio}. */
export interface StdioOptions {
  /** Longest line accepted, in bytes; a longer one is answered with an error and skipped. Default 4 MiB. */
  maxMessageBytes?: number;
  /**
   * Sends `console.log`, `console.info` and `console.debug` to stderr while
   * serving, since stdout carries the protocol. Default true.
   */
  redirectConsole?: boolean;
  /** Milliseconds to let requests in flight finish after stdin ends. Default 10,000. */
  shutdownTimeout?: number;
  /** Where messages come from. Default: the process's stdin. */
  input?: ReadableStream<Uint8Array>;
  /** Where messages go. Default: the process's stdout. */
  output?: WritableStream<Uint8Array>;
  /** Becomes `ctx.auth` (stdio has no per-request authentication: whoever starts the process is the client). */
  auth?: unknown;
}

/** A session served over stdio, from {@linkcode serveStdio}. */
export interface StdioHandle {
  /** The one session. */
  readonly session: Session;
  /** Resolves when the session has ended (stdin closed, stdout failed, or {@linkcode StdioHandle.close}). */
  readonly closed: Promise<void>;
  /** Stops reading, lets requests in flight finish (up to `timeout`), then ends the session. */
  close(options?: CloseOptions): Promise<void>;
}

function defaultInput(): ReadableStream<Uint8Array> {
  if (runtime.Bun?.stdin) return runtime.Bun.stdin.stream();
  if (runtime.Deno?.stdin) return runtime.Deno.stdin.readable;
  throw new Error("serveStdio() needs Deno or Bun, or options.input and options.output");
}

function defaultOutput(): WritableStream<Uint8Array> {
  if (runtime.Bun?.stdout) {
    const sink = runtime.Bun.stdout.writer();
    return new WritableStream<Uint8Array>({
      async write(chunk) {
        sink.write(chunk);
        await sink.flush();
      },
    });
  }
  if (runtime.Deno?.stdout) return runtime.Deno.stdout.writable;
  throw new Error("serveStdio() needs Deno or Bun, or options.input and options.output");
}

/**
 * Serves `server` to the process that started this one, over stdin and
 * stdout. The session ends when stdin ends; the process then exits once
 * nothing else keeps it alive.
 *
 * @example
 * ```ts
 * import { McpServer, serveStdio } from "./mod.ts";
 * const server = new McpServer({ name: "demo", version: "1.0.0" });
 * serveStdio(server);
 * ```
 */
export function serveStdio(server: McpServer, options: StdioOptions = {}): StdioHandle {
  const maxBytes = options.maxMessageBytes ?? 4 * 1024 * 1024;
  const input = options.input ?? defaultInput();
  const writer = (options.output ?? defaultOutput()).getWriter();
  const encoder = new TextEncoder();
  const restore = options.redirectConsole === false ? () => {} : redirectConsole();
  const lease = coreOf(server).attach();
  let ended = false;
  let reading = true;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const reader = input.getReader();

  const write = (text: string) => {
    if (ended) return;
    writer.write(encoder.encode(text + "\n")).catch((e: unknown) => {
      console.error(`mcp stdio: stdout failed (${(e as Error)?.message ?? e}); ending the session`);
      end();
    });
  };

  const session = server.connect({
    send: (text) => write(text),
    close: () => end(),
  }, { auth: options.auth, transport: "stdio" });

  function end(): void {
    if (ended) return;
    ended = true;
    reading = false;
    session.closed();
    void lease.end();
    reader.cancel().catch(() => {});
    try {
      writer.releaseLock(); // writes already queued still go out
    } catch { /* already released */ }
    restore();
    resolveClosed();
  }

  async function shutdown(timeout: number): Promise<void> {
    if (ended) return;
    reading = false;
    // As every transport does at the start of its close: if it is the server's last, its tasks end first.
    await lease.end(async () => {
      await drainSessions([session], timeout);
      // Let aborted handlers put their error responses on the wire before the session ends.
      await new Promise((r) => setTimeout(r, 0));
      await writer.ready.catch(() => {});
    });
    end();
  }

  (async () => {
    const decoder = new TextDecoder();
    let buf = "";
    let skipping = false; // inside a line that was too long
    try {
      while (reading) {
        const { done, value } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let nl: number;
        while (reading && (nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (skipping) {
            skipping = false;
            continue;
          }
          handleLine(line);
        }
        if (buf.length > maxBytes) {
          if (!skipping) tooLong();
          skipping = true;
          buf = "";
        }
      }
      if (reading && buf.trim() && !skipping) handleLine(buf);
    } catch (e) {
      if (!ended) console.error(`mcp stdio: stdin failed (${(e as Error)?.message ?? e})`);
    }
    if (!ended) await shutdown(options.shutdownTimeout ?? 10_000);
  })();

  function handleLine(line: string): void {
    const text = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (!text.trim()) return;
    if (text.length > maxBytes) return tooLong();
    try {
      session.receive(text);
    } catch (e) {
      // One bad message must not end the read loop, and with it the server.
      console.error(`mcp stdio: internal error on a message (${(e as Error)?.message ?? e})`);
    }
  }

  function tooLong(): void {
    console.error(`mcp stdio: skipped a message longer than ${maxBytes} bytes`);
    write(JSON.stringify({
      jsonrpc: "2.0",
      id: null,
      error: { code: ErrorCode.InvalidRequest, message: `Invalid Request: message longer than ${maxBytes} bytes` },
    }));
  }

  return {
    session,
    closed,
    close: (opts = {}) => shutdown(opts.timeout ?? 10_000),
  };
}

// stdout carries the protocol: send the console's stdout methods to stderr while serving.
function redirectConsole(): () => void {
  const c = console as unknown as Record<string, unknown>;
  const saved = { log: c.log, info: c.info, debug: c.debug };
  c.log = c.info = c.debug = console.error.bind(console);
  return () => Object.assign(c, saved);
}
