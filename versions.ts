/**
 * Protocol versions: which ones this server speaks, the `_meta` keys of the
 * per-request versions (2026-07-28), and what each version can do. Code asks
 * a feature predicate here instead of comparing version strings.
 *
 * @module
 */

/** Protocol versions this server speaks through `initialize`, newest first. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly string[] = [
  "2025-11-25",
  "2025-06-18",
  "2025-03-26",
  "2024-11-05",
];

/** The newest protocol version this server speaks through `initialize`. */
export const LATEST_PROTOCOL_VERSION = "2025-11-25";

/**
 * Per-request protocol versions (2026-07-28 and later): no `initialize`;
 * every request names its version and the client's capabilities in `_meta`.
 */
export const PER_REQUEST_PROTOCOL_VERSIONS: readonly string[] = ["2026-07-28"];

/** Keys of a per-request (2026-07-28) message's `_meta`. @internal */
export const META = {
  version: "io.modelcontextprotocol/protocolVersion",
  caps: "io.modelcontextprotocol/clientCapabilities",
  info: "io.modelcontextprotocol/clientInfo",
  logLevel: "io.modelcontextprotocol/logLevel",
  serverInfo: "io.modelcontextprotocol/serverInfo",
  subscriptionId: "io.modelcontextprotocol/subscriptionId",
} as const;

// Versions by feature, so that a new version is one line here and not a hunt for string comparisons.
const BATCHES = new Set(["2025-03-26", "2024-11-05"]);
const SINCE_2025_11_25 = new Set(["2025-11-25", ...PER_REQUEST_PROTOCOL_VERSIONS]);
const PER_REQUEST = new Set(PER_REQUEST_PROTOCOL_VERSIONS);
// Tasks as session methods (params.task, tasks/*) were 2025-11-25's; 2026-07-28 made them an extension.
const SESSION_TASKS = new Set(["2025-11-25"]);

/** Whether `version` is a per-request one (2026-07-28 on): no `initialize`, everything in each request's `_meta`. @internal */
export function isPerRequest(version: string): boolean {
  return PER_REQUEST.has(version);
}

/** Whether a session under `version` has `params.task` and the `tasks/*` methods (2025-11-25 only). @internal */
export function hasSessionTasks(version: string): boolean {
  return SESSION_TASKS.has(version);
}

/** Whether `version` allows JSON-RPC batches (2025-03-26 and 2024-11-05 only). @internal */
export function allowsBatches(version: string): boolean {
  return BATCHES.has(version);
}

/** Whether `elicitation/create` names its `mode` under `version` (2025-11-25 on). @internal */
export function elicitationHasMode(version: string): boolean {
  return SINCE_2025_11_25.has(version);
}

/**
 * Whether SSE streams start with a priming event and may be closed by the
 * server for the client to resume (2025-11-25 polling). @internal
 */
export function primesStreams(version: string): boolean {
  return SINCE_2025_11_25.has(version);
}

/** The per-request version a message names in `params._meta`, if any. @internal */
export function perRequestVersion(message: unknown): unknown {
  const meta = (message as { params?: { _meta?: unknown } } | null)?.params?._meta;
  return typeof meta === "object" && meta !== null ? (meta as Record<string, unknown>)[META.version] : undefined;
}
