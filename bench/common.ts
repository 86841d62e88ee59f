// Shared by the benchmark servers, the load client and the runner: the frames
// on the wire, the runtime probe, the stdin control protocol of servers, and the
// runners' statistics over rounds.
// Bench code only: it may use node:* freely (the library never does).
import process from "node:process";

// deno-lint-ignore no-explicit-any
export const rt = globalThis as any;
export const runtime: "bun" | "deno" | "node" = rt.Bun ? "bun" : rt.Deno ? "deno" : "node";

/** The echo tool's argument: a typical small tool call (the frames are ~150 and ~110 bytes). */
export const TEXT = "The quick brown fox jumps over the lazy dog, 0123456789 times.";

export const PROTOCOL_VERSION = "2025-11-25";

export function callFrame(id: number): string {
  return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"text":"${TEXT}"}}}`;
}

/** What the library answers to callFrame(id): the raw echo servers send a frame of this size back. */
export function resultFrame(id: number): string {
  return `{"jsonrpc":"2.0","id":${id},"result":{"content":[{"type":"text","text":"${TEXT}"}]}}`;
}

export function initializeFrame(id: number): string {
  return JSON.stringify({
    jsonrpc: "2.0",
    id,
    method: "initialize",
    params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "bench", version: "1" } },
  });
}

/** The `_meta` of a protocol 2026-07-28 request: no initialize, the version rides in every request. */
export const MODERN_META = `{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}`;

/** callFrame() for protocol 2026-07-28. */
export function modernCallFrame(id: number): string {
  return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"text":"${TEXT}"},"_meta":${MODERN_META}}}`;
}

export const INITIALIZED = `{"jsonrpc":"2.0","method":"notifications/initialized"}`;

/** CPU seconds (user + system) this process has used. */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export function rssBytes(): number {
  return process.memoryUsage().rss;
}

/** A full, blocking GC where the runtime offers one (Deno needs --v8-flags=--expose-gc). */
export function fullGc(): void {
  if (rt.Bun?.gc) rt.Bun.gc(true);
  else if (typeof rt.gc === "function") rt.gc();
}

/**
 * The control protocol of every benchmark server: it prints `READY <url>` once
 * listening, then answers lines on stdin (`stats` → `STATS {json}`, `exit`).
 * It exits when stdin closes (the runner died) or after `lifetimeMs`.
 */
export function serveControl(url: string, extra: () => Record<string, unknown> = () => ({}), lifetimeMs = 600_000) {
  const timer = setTimeout(() => process.exit(3), lifetimeMs);
  onStdinLines((line) => {
    if (line === "stats" || line === "gc") {
      if (line === "gc") { for (let i = 0; i < 3; i++) fullGc(); }
      const m = process.memoryUsage();
      console.log(
        `STATS ${
          JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, external: m.external, cpu: cpuSeconds(), ...extra() })
        }`,
      );
    } else if (line === "exit") {
      clearTimeout(timer);
      process.exit(0);
    }
  });
  console.log(`READY ${url}`);
}

/** Calls `onLine` with each line of stdin, trimmed; exits when stdin ends (the runner is gone). */
export function onStdinLines(onLine: (line: string) => void): void {
  let buf = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      onLine(line);
    }
  });
  process.stdin.on("end", () => process.exit(0));
}

/** Commands on stdin: `next(prefix)` resolves with the rest of the next line that starts with `prefix`. */
export function stdinCommands(): (prefix: string) => Promise<string> {
  const waiting: ((line: string) => void)[] = [];
  onStdinLines((line) => {
    for (const w of [...waiting]) w(line);
  });
  return (prefix) =>
    new Promise((resolve) => {
      const w = (line: string) => {
        if (!line.startsWith(prefix)) return;
        waiting.splice(waiting.indexOf(w), 1);
        resolve(line.slice(prefix.length).trim());
      };
      waiting.push(w);
    });
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i];
}

// ---------------------------------------------------------------------------
// Reports (bench/hotpath.ts, bench/cluster.ts)

/** The median and range of a figure over rounds (`n`: how many rounds had a finite value). */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function spread(xs: number[]): Spread {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = !s.length ? NaN : s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN, n: s.length };
}

/** `n` with `d` decimals and thousands separators; "–" where it is not finite. */
export const fmt = (n: number, d = 0): string =>
  !Number.isFinite(n) ? "–" : n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });

/** "median (min–max)", or the median alone from one round; "–" from none. */
export const showSpread = (s: Spread, d = 0, unit = ""): string =>
  s.n ? `${fmt(s.median, d)}${unit}${s.n > 1 ? ` (${fmt(s.min, d)}–${fmt(s.max, d)})` : ""}` : "–";
