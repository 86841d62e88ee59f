// The connection behind connect(): the WebSocket, the initialize handshake
// (or the server/discover probe of 2026-07-28), reconnection, notifications,
// input_required rounds. Requests in flight live in outbound.ts; the
// methods that are plain requests in calls.ts; the answers to the
// server's requests in answers.ts; subscriptions and listens in
// listen.ts; what 2026-07-28 adds to messages, in per_request.ts.

import { classify, ErrorCode, type JsonRpcNotification, notificationFrame, type RequestId } from "../jsonrpc.ts";
import type { Implementation, LoggingLevel } from "../types.ts";
import type {
  CloseInfo,
  ConnectOptions,
  ListenFilter,
  Listening,
  McpClient,
  NotificationListener,
  Progress,
  ReconnectOptions,
  RequestOptions,
  ServerCapabilities,
} from "../client.ts";
import { closedError, McpClientError } from "./error.ts";
import { abortReason, Outbound } from "./outbound.ts";
import { MAX_TIMER } from "../_util/timers.ts";
import { Subscriptions } from "./listen.ts";
import { Answers } from "./answers.ts";
import { ClientCalls } from "./calls.ts";
import {
  discovered,
  envelope,
  inputRequestsOf,
  isLogLevel,
  isPerRequestError,
  MAX_INPUT_ROUNDS,
  PER_REQUEST_VERSIONS,
  type Scope,
  strip,
} from "./per_request.ts";

function plainHeaders(init: HeadersInit): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init).forEach((v, k) => (out[k] = v));
  return out;
}

/** The protocol version the client asks for, unless told otherwise. */
export const CLIENT_PROTOCOL_VERSION = "2025-11-25";

/**
 * Protocol versions the client speaks, newest first: 2026-07-28 per
 * request, the others through `initialize`.
 */
export const CLIENT_PROTOCOL_VERSIONS: readonly string[] = [
  "2026-07-28",
  "2025-11-25",
  "2025-06-18",
  "2025-03-26",
  "2024-11-05",
];

// The versions an initialize result may name.
const INITIALIZE_VERSIONS = CLIENT_PROTOCOL_VERSIONS.filter((v) => !PER_REQUEST_VERSIONS.includes(v));

// How long "auto" waits for an answer to server/discover before taking the server for a 2025 one
// (at most half the connect timeout, leaving the other half to initialize).
const PROBE_TIMEOUT = 10_000;

const DEFAULT_TIMEOUT = 60_000;
const DEFAULT_CLIENT_INFO: Implementation = { name: "mcp-ws-client", version: "0.1.0" };
const OPEN = 1;
const CLOSED = 3;

type Sleep = { timer: ReturnType<typeof setTimeout>; wake: () => void };

function normalizeUrl(url: string | URL): URL {
  const u = new URL(url);
  if (u.protocol === "http:") u.protocol = "ws:";
  else if (u.protocol === "https:") u.protocol = "wss:";
  if (u.protocol !== "ws:" && u.protocol !== "wss:") {
    throw new TypeError(`An MCP WebSocket URL must start with ws:// or wss:// (got ${u.protocol}//)`);
  }
  return u;
}

/** The {@linkcode McpClient} that `connect()` returns; {@linkcode Client.start} opens it. */
export class Client extends ClientCalls implements McpClient {
  readonly closed: Promise<CloseInfo>;
  #url: URL;
  #opts: ConnectOptions;
  #timeout: number;
  #reconnect?: Required<ReconnectOptions>;
  #headers?: Record<string, string> | (() => HeadersInit | Promise<HeadersInit>);
  #ws?: WebSocket;
  #state: "connecting" | "open" | "reconnecting" | "closed" = "connecting";
  #out: Outbound;
  #answers: Answers;
  #listeners = new Map<string, Set<NotificationListener>>();
  #subs: Subscriptions;
  // Found by the first connection; reconnections keep it.
  #era?: "perRequest" | "session";
  #logLevel?: LoggingLevel;
  #sleep?: Sleep;
  #resolveClosed!: (info: CloseInfo) => void;
  #init: {
    serverInfo: Implementation;
    capabilities: ServerCapabilities;
    protocolVersion: string;
    instructions?: string;
  } = { serverInfo: { name: "", version: "" }, capabilities: {}, protocolVersion: "" };

  constructor(url: string | URL, opts: ConnectOptions) {
    super();
    this.#url = normalizeUrl(url);
    this.#opts = opts;
    this.#timeout = opts.timeout ?? DEFAULT_TIMEOUT;
    this.#out = new Outbound(() => this.#ws, () => this.#state === "open", this.#timeout);
    this.#answers = new Answers(opts);
    this.#subs = new Subscriptions(
      {
        perRequest: () => this.#era === "perRequest",
        closed: () => this.#isClosed(),
        request: (method, params, options) => this.request(method, params, options),
        on: (method, listener) => this.on(method, listener),
        capabilities: () => this.serverCapabilities,
        report: (e) => this.#report(e),
      },
      this.#out,
      () => this.#scope(),
      this.#timeout,
    );
    const r = opts.reconnect;
    if (r) {
      const o = r === true ? {} : r;
      this.#reconnect = { retries: o.retries ?? 10, minDelay: o.minDelay ?? 250, maxDelay: o.maxDelay ?? 10_000 };
    }
    if (opts.headers !== undefined) {
      const g = globalThis as Record<string, unknown>;
      if (!("Deno" in g) && !("Bun" in g)) {
        throw new TypeError(
          "This runtime's WebSocket cannot send HTTP headers (browsers cannot); pass credentials another way",
        );
      }
      // A function is asked on every connect: a reconnection after a token expired (4401) sends a fresh one.
      this.#headers = typeof opts.headers === "function" ? opts.headers : plainHeaders(opts.headers);
    }
    this.closed = new Promise((r) => (this.#resolveClosed = r));
  }

  get serverInfo(): Implementation {
    return this.#init.serverInfo;
  }
  get serverCapabilities(): ServerCapabilities {
    return this.#init.capabilities;
  }
  get protocolVersion(): string {
    return this.#init.protocolVersion;
  }
  get instructions(): string | undefined {
    return this.#init.instructions;
  }
  get state(): "open" | "reconnecting" | "closed" {
    return this.#state === "connecting" ? "reconnecting" : this.#state;
  }

  // -- connection ---------------------------------------------------------

  async start(): Promise<void> {
    try {
      await this.#open(this.#opts.signal);
    } catch (e) {
      this.#finish({ code: 1006, reason: e instanceof Error ? e.message : String(e) });
      throw e;
    }
  }

  async #socket(): Promise<WebSocket> {
    const given = this.#headers;
    if (given) {
      const headers = typeof given === "function" ? plainHeaders(await given()) : given;
      // Deno and Bun take `{ protocols, headers }` as the second argument.
      const Ctor = WebSocket as unknown as new (url: URL, init: unknown) => WebSocket;
      return new Ctor(this.#url, { protocols: ["mcp"], headers });
    }
    return new WebSocket(this.#url, "mcp");
  }

  // Opens a socket and performs the handshake; on success the client is "open".
  async #open(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortReason(signal);
    const timeout = this.#timeout;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const give = new Promise<never>((_, reject) => {
      if (timeout > 0 && Number.isFinite(timeout)) {
        timer = setTimeout(() => {
          reject(
            new McpClientError(ErrorCode.RequestTimeout, `Connecting to ${this.#url} timed out after ${timeout} ms`),
          );
        }, Math.min(timeout, MAX_TIMER));
      }
      if (signal) {
        onAbort = () => reject(abortReason(signal));
        signal.addEventListener("abort", onAbort, { once: true });
      }
    });
    let ws: WebSocket | undefined;
    try {
      ws = await this.#dial(give);
      const mode = this.#opts.protocolVersion ?? CLIENT_PROTOCOL_VERSION;
      const probe = this.#era ? this.#era === "perRequest" : mode === "auto" || PER_REQUEST_VERSIONS.includes(mode);
      let perRequest = false;
      if (probe) {
        const verdict = await this.#discover(this.#era === "perRequest" || mode !== "auto", give);
        // A 2025 server that closes the socket on an unknown first request gets a new one for initialize.
        if (verdict === "closed") {
          if (ws.readyState !== CLOSED) ws.close();
          ws = await this.#dial(give);
        }
        perRequest = verdict === "perRequest";
      }
      if (!perRequest) await this.#initialize(ws, give);
      this.#era = perRequest ? "perRequest" : "session";
      this.#state = "open";
      // Requests made while reconnecting go out now.
      this.#out.flush(ws);
    } catch (e) {
      if (ws) {
        if (this.#ws === ws) this.#ws = undefined;
        this.#dropSent({ code: 1006, reason: "handshake failed" });
        try {
          ws.close(1000, "handshake failed");
        } catch { /* not open */ }
      }
      throw e;
    } finally {
      clearTimeout(timer);
      if (onAbort) signal!.removeEventListener("abort", onAbort);
    }
  }

  // Opens a socket (the current one from now on) and listens to it.
  async #dial(give: Promise<never>): Promise<WebSocket> {
    const ws = await Promise.race([this.#socket(), give]);
    this.#ws = ws;
    try {
      await Promise.race([this.#opened(ws), give]);
    } catch (e) {
      if (this.#ws === ws) this.#ws = undefined;
      try {
        ws.close(1000, "handshake failed");
      } catch { /* not open */ }
      throw e;
    }
    this.#attach(ws);
    return ws;
  }

  #closedWhileConnecting(): McpClientError {
    return new McpClientError(ErrorCode.ConnectionClosed, "The client was closed while connecting");
  }

  async #initialize(ws: WebSocket, give: Promise<never>): Promise<void> {
    const mode = this.#opts.protocolVersion ?? CLIENT_PROTOCOL_VERSION;
    const res = await Promise.race([
      this.#request(
        "initialize",
        {
          protocolVersion: mode === "auto" || PER_REQUEST_VERSIONS.includes(mode) ? CLIENT_PROTOCOL_VERSION : mode,
          capabilities: this.#capabilities(),
          clientInfo: this.#opts.clientInfo ?? DEFAULT_CLIENT_INFO,
        },
        { timeout: 0 },
        true,
      ),
      give,
    ]);
    if (this.#isClosed()) throw this.#closedWhileConnecting();
    const version = res.protocolVersion;
    if (typeof version !== "string" || !INITIALIZE_VERSIONS.includes(version)) {
      throw new McpClientError(
        ErrorCode.ConnectionClosed,
        `The server answered initialize with protocol version ${
          JSON.stringify(version)
        }, which this client does not speak (it speaks ${INITIALIZE_VERSIONS.join(", ")})`,
        undefined,
        "initialize",
      );
    }
    const caps = res.capabilities;
    this.#init = {
      serverInfo:
        (typeof res.serverInfo === "object" && res.serverInfo !== null
          ? res.serverInfo
          : { name: "", version: "" }) as Implementation,
      capabilities: (typeof caps === "object" && caps !== null ? caps : {}) as ServerCapabilities,
      protocolVersion: version,
      instructions: typeof res.instructions === "string" ? res.instructions : undefined,
    };
    ws.send(notificationFrame("notifications/initialized"));
  }

  /**
   * Sends `server/discover` naming 2026-07-28. "perRequest": the server speaks it
   * (the client is set up from the result). "session": it answered with an
   * error a 2026-07-28 server would not give, or not in time. "closed": it
   * closed the connection. A `pinned` probe throws instead of "session" or
   * "closed"; an error only a 2026-07-28 server gives always throws.
   */
  async #discover(pinned: boolean, give: Promise<never>): Promise<"perRequest" | "session" | "closed"> {
    const wanted = PER_REQUEST_VERSIONS[0];
    const answer = await Promise.race([
      this.#out.request(
        "server/discover",
        envelope(undefined, this.#scope(wanted)),
        { timeout: pinned ? 0 : this.#timeout > 0 ? Math.min(PROBE_TIMEOUT, this.#timeout / 2) : PROBE_TIMEOUT },
        true,
      ).then((r) => ({ r }), (e: unknown) => ({ e })),
      give,
    ]);
    if (this.#isClosed()) throw this.#closedWhileConnecting();
    if ("r" in answer) {
      const d = discovered(answer.r);
      const version = PER_REQUEST_VERSIONS.find((v) => d.supportedVersions.includes(v));
      if (version) {
        this.#init = {
          serverInfo: d.serverInfo,
          capabilities: d.capabilities,
          protocolVersion: version,
          instructions: d.instructions,
        };
        return "perRequest";
      }
      if (!pinned && d.supportedVersions.some((v) => INITIALIZE_VERSIONS.includes(v))) return "session";
      throw new McpClientError(
        ErrorCode.ConnectionClosed,
        `The server speaks protocol ${d.supportedVersions.join(", ") || "(none listed)"}, not ${wanted}${
          pinned ? "" : ` or ${INITIALIZE_VERSIONS.join(", ")}`
        }`,
        answer.r,
        "server/discover",
      );
    }
    const e = answer.e;
    // Closed is what the socket says, not an error code: -32000 is also a 2025 server's "not initialized".
    const closed = this.#ws === undefined || this.#ws.readyState !== OPEN;
    if (isPerRequestError(e) || pinned) {
      const err = e as McpClientError;
      const how = closed ? "closed the connection" : `answered server/discover with "${err.message}"`;
      throw new McpClientError(
        err.code,
        `The server does not speak protocol ${wanted}: it ${how}`,
        err.data,
        "server/discover",
      );
    }
    return closed ? "closed" : "session";
  }

  // What 2026-07-28 requests say about the client.
  #scope(version = this.#init.protocolVersion): Scope {
    return {
      version,
      caps: this.#capabilities(),
      info: this.#opts.clientInfo ?? DEFAULT_CLIENT_INFO,
      logLevel: this.#logLevel,
    };
  }

  #opened(ws: WebSocket): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (detail: string) => {
        cleanup();
        reject(new McpClientError(ErrorCode.ConnectionClosed, `Could not connect to ${this.#url}: ${detail}`));
      };
      const onOpen = () => (cleanup(), resolve());
      const onError = (e: Event) => fail((e as ErrorEvent).message || "the WebSocket connection failed");
      const onClose = (e: CloseEvent) =>
        fail(`the connection closed (code ${e.code}${e.reason ? `: ${e.reason}` : ""})`);
      const cleanup = () => {
        ws.removeEventListener("open", onOpen);
        ws.removeEventListener("error", onError);
        ws.removeEventListener("close", onClose);
      };
      ws.addEventListener("open", onOpen);
      ws.addEventListener("error", onError);
      ws.addEventListener("close", onClose);
    });
  }

  #attach(ws: WebSocket): void {
    ws.addEventListener("message", (e) => {
      if (this.#ws === ws) this.#receive(ws, (e as MessageEvent).data);
    });
    ws.addEventListener("close", (e) => this.#lost(ws, { code: e.code, reason: e.reason }));
  }

  #capabilities(): Record<string, unknown> {
    const caps: Record<string, unknown> = { ...this.#opts.capabilities };
    if (this.#opts.onSample) caps.sampling ??= {};
    if (this.#opts.onElicit) caps.elicitation ??= { form: {} };
    if (this.#opts.onListRoots) caps.roots ??= { listChanged: true };
    return caps;
  }

  // Rejects requests that went out on a connection that is gone.
  #dropSent(info: CloseInfo): void {
    this.#out.dropSent(info);
    this.#answers.abortIncoming(closedError(info));
  }

  #lost(ws: WebSocket, info: CloseInfo): void {
    if (this.#ws !== ws) return;
    this.#ws = undefined;
    this.#dropSent(info);
    if (this.#state !== "open") return; // a handshake in progress fails on its own
    try {
      this.#opts.onDisconnect?.(info);
    } catch (e) {
      this.#report(e);
    }
    if (this.#reconnect && this.#reconnect.retries > 0) void this.#reconnectLoop(info);
    else this.#finish(info);
  }

  async #reconnectLoop(info: CloseInfo): Promise<void> {
    this.#state = "reconnecting";
    const { retries, minDelay, maxDelay } = this.#reconnect!;
    let last: unknown;
    for (let attempt = 0; attempt < retries; attempt++) {
      const base = Math.min(maxDelay, minDelay * 2 ** attempt);
      await new Promise<void>((wake) => {
        // Jitter spreads the clients of a restarted server over time.
        this.#sleep = { timer: setTimeout(wake, base * (0.5 + Math.random() / 2)), wake };
      });
      this.#sleep = undefined;
      if (this.#isClosed()) return;
      try {
        await this.#open();
      } catch (e) {
        last = e;
        if (this.#isClosed()) return;
        this.#state = "reconnecting";
        continue;
      }
      await this.#restore();
      try {
        this.#opts.onReconnect?.();
      } catch (e) {
        this.#report(e);
      }
      return;
    }
    const why = last instanceof Error ? last.message : String(last);
    this.#finish({
      code: info.code,
      reason: `${info.reason || "connection lost"}; gave up after ${retries} attempts to reconnect: ${why}`,
    });
  }

  #report(error: unknown): void {
    try {
      (this.#opts.onError ?? console.error)(error);
    } catch { /* nowhere left to report */ }
  }

  // A method, so TypeScript does not narrow #state across awaits.
  #isClosed(): boolean {
    return this.#state === "closed";
  }

  async #restore(): Promise<void> {
    const work: Promise<unknown>[] = [this.#subs.restore()];
    // Under 2026-07-28 the log level rides on every request.
    if (this.#era !== "perRequest" && this.#logLevel) {
      work.push(this.request("logging/setLevel", { level: this.#logLevel }).catch((e) => this.#report(e)));
    }
    await Promise.all(work);
  }

  #finish(info: CloseInfo): void {
    this.#state = "closed";
    if (this.#sleep) (clearTimeout(this.#sleep.timer), this.#sleep.wake());
    this.#out.rejectAll(info);
    this.#answers.abortAll(closedError(info));
    this.#resolveClosed(info);
  }

  async close(): Promise<void> {
    if (this.#state === "closed") return void (await this.closed);
    const ws = this.#ws;
    this.#ws = undefined;
    const info = { code: 1000, reason: "closed by the client" };
    this.#finish(info);
    if (ws && ws.readyState <= OPEN) {
      // Wait for the close handshake (bounded) so no socket outlives close().
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, 2000);
        function done() {
          clearTimeout(t);
          resolve();
        }
        ws.addEventListener("close", done, { once: true });
        try {
          ws.close(1000, "client closed");
        } catch {
          done();
        }
      });
    }
  }

  // -- messages -------------------------------------------------------------

  #receive(ws: WebSocket, data: unknown): void {
    if (typeof data !== "string") return; // MCP sends text frames only
    let value: unknown;
    try {
      value = JSON.parse(data);
    } catch {
      return;
    }
    for (const v of Array.isArray(value) ? value : [value]) {
      const c = classify(v);
      if (c.kind === "response") this.#out.answer(c);
      else if (c.kind === "notification") this.#notification(c.msg);
      else if (c.kind === "request") this.#answers.request(ws, c.msg);
    }
  }

  #notification(msg: JsonRpcNotification): void {
    const p = msg.params ?? {};
    if (msg.method === "notifications/progress") {
      const cb = this.#out.progressListener(p.progressToken as RequestId);
      if (cb && typeof p.progress === "number") {
        const progress: Progress = { progress: p.progress };
        if (typeof p.total === "number") progress.total = p.total;
        if (typeof p.message === "string") progress.message = p.message;
        try {
          cb(progress);
        } catch (e) {
          this.#report(e);
        }
      }
    } else if (msg.method === "notifications/cancelled") {
      this.#answers.cancel(p.requestId as RequestId, p.reason);
    } else if (msg.method === "notifications/resources/updated") {
      this.#subs.updated(p);
    }
    this.#subs.listens.deliver(msg, (e) => this.#report(e));
    if (msg.method !== "notifications/subscriptions/acknowledged" && !this.#subs.listens.heard(msg)) return;
    for (const l of [...this.#listeners.get(msg.method) ?? []]) {
      try {
        l(p, msg);
      } catch (e) {
        this.#report(e);
      }
    }
  }

  // -- requests -------------------------------------------------------------

  request(
    method: string,
    params?: Record<string, unknown>,
    options: RequestOptions = {},
  ): Promise<Record<string, unknown>> {
    return this.#request(method, params, options, false);
  }

  #request(
    method: string,
    params: Record<string, unknown> | undefined,
    options: RequestOptions,
    handshake: boolean,
  ): Promise<Record<string, unknown>> {
    if (this.#state === "closed") {
      return Promise.reject(new McpClientError(ErrorCode.ConnectionClosed, "The client is closed", undefined, method));
    }
    if (this.#era === "perRequest" && !handshake) return this.#perRequestCall(method, params, options);
    return this.#out.request(method, params, options, handshake);
  }

  // A 2026-07-28 request: `_meta` on every round; input_required answered by the handlers, then retried.
  async #perRequestCall(
    method: string,
    params: Record<string, unknown> | undefined,
    options: RequestOptions,
  ): Promise<Record<string, unknown>> {
    let retry: Record<string, unknown> | undefined;
    const answeredUrls = new Set<string>();
    for (let rounds = 0;; rounds++) {
      const res = await this.#out.request(method, envelope({ ...params, ...retry }, this.#scope()), options, false);
      const type = res.resultType;
      if (type === undefined || type === "complete") return strip(res);
      if (type !== "input_required") {
        throw new McpClientError(
          ErrorCode.InternalError,
          `The server answered ${method} with resultType ${JSON.stringify(type)}, which this client does not know`,
          res,
          method,
        );
      }
      if (rounds >= MAX_INPUT_ROUNDS) {
        throw new McpClientError(
          ErrorCode.InternalError,
          `The server still asked for input after ${MAX_INPUT_ROUNDS} rounds of ${method}; giving up`,
          res,
          method,
        );
      }
      const asked = inputRequestsOf(res, method);
      // Pages to visit asked for again after an answer (the same URLs; a server may name them anew each
      // time): the user has not finished there yet, and retrying
      // at once would only ask again. The caller gets them, as a 2025 server's -32042 would give them.
      const urls = asked.filter(([, r]) => r.method === "elicitation/create" && r.params.mode === "url");
      if (
        urls.length === asked.length && urls.length && urls.every(([, r]) => answeredUrls.has(String(r.params.url)))
      ) {
        throw new McpClientError(
          ErrorCode.UrlElicitationRequired,
          `${method} still needs the user to finish at ${
            urls.map(([, r]) => r.params.url).join(", ")
          }; call it again then`,
          { elicitations: urls.map(([, r]) => r.params) },
          method,
        );
      }
      for (const [, r] of urls) answeredUrls.add(String(r.params.url));
      retry = {};
      if (res.inputRequests !== undefined) {
        retry.inputResponses = await this.#answers.answer(method, asked, options.signal);
      }
      if (typeof res.requestState === "string") retry.requestState = res.requestState;
    }
  }

  notify(method: string, params?: Record<string, unknown>): void {
    if (this.#state === "open" && this.#ws?.readyState === OPEN) this.#ws.send(notificationFrame(method, params));
  }

  notifyRootsListChanged(): void {
    this.notify("notifications/roots/list_changed");
  }

  on(method: string, listener: NotificationListener): () => void {
    let set = this.#listeners.get(method);
    if (!set) this.#listeners.set(method, set = new Set());
    set.add(listener);
    return () => {
      set.delete(listener);
      if (!set.size && this.#listeners.get(method) === set) this.#listeners.delete(method);
    };
  }

  subscribe(
    uri: string,
    onUpdate: (params: { uri: string; [key: string]: unknown }) => void,
    options?: RequestOptions,
  ): Promise<() => Promise<void>> {
    return this.#subs.subscribe(uri, onUpdate, options);
  }

  listen(filter: ListenFilter, onNotification?: NotificationListener, options?: RequestOptions): Promise<Listening> {
    return this.#subs.listen(filter, onNotification, options);
  }

  async setLogLevel(level: LoggingLevel, options?: RequestOptions): Promise<void> {
    if (this.#era === "perRequest") {
      if (!isLogLevel(level)) {
        throw new McpClientError(
          ErrorCode.InvalidParams,
          `Unknown log level ${
            JSON.stringify(level)
          }: debug, info, notice, warning, error, critical, alert or emergency`,
          undefined,
          "logging/setLevel",
        );
      }
      this.#logLevel = level;
      return;
    }
    await this.request("logging/setLevel", { level }, options);
    this.#logLevel = level;
  }
}
