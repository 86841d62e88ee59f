// Protocol 2026-07-28, the per-request era, in the dispatcher: no initialize and no session state.
// Each request names its version, the client's capabilities and its log level in `_meta` (its
// Scope), and a handler that asks the client for input ends the call with `input_required`, to be
// resumed by a retry that carries the answers (per_request_routes.ts seals and opens the rounds).

import { ErrorCode, type JsonRpcRequest, McpError, type RequestId } from "../jsonrpc.ts";
import type {
  CreateMessageParams,
  CreateMessageResult,
  ElicitResult,
  Implementation,
  InferOutput,
  LoggingLevel,
  Root,
  StandardSchemaV1,
} from "../types.ts";
import { Context } from "../context.ts";
import type { Session } from "../session.ts";
import {
  elicitOutcome,
  elicitParams,
  rootsOf,
  supportsFormElicitation,
  supportsUrlElicitation,
  urlElicitation,
  urlElicitParams,
  urlOutcome,
} from "./elicitation.ts";
import type { ElicitUrlOptions, UrlElicitResult } from "../url_elicitation.ts";
import { type ErrorResponse, errorResponse } from "./results.ts";
import { levelRank } from "../_util/log_levels.ts";
import { describe, isRecord } from "../_util/values.ts";
import { META, PER_REQUEST_PROTOCOL_VERSIONS, SUPPORTED_PROTOCOL_VERSIONS } from "../versions.ts";

/** What a 2026-07-28 request says about itself in `_meta`. */
export interface Scope {
  version: string;
  caps: Record<string, unknown>;
  info?: Implementation;
  logLevel?: LoggingLevel;
}

function toScope(meta: unknown): Scope {
  const m = isRecord(meta) ? meta : {};
  const caps = m[META.caps];
  const info = m[META.info];
  const level = m[META.logLevel];
  return {
    version: typeof m[META.version] === "string" ? m[META.version] as string : PER_REQUEST_PROTOCOL_VERSIONS[0],
    caps: isRecord(caps) ? caps : {},
    info: typeof info === "object" && info !== null ? info as Implementation : undefined,
    logLevel: typeof level === "string" && levelRank(level) >= 0 ? level as LoggingLevel : undefined,
  };
}

/** The error for a request naming a per-request version this server does not speak, or undefined. */
export function unsupportedVersion(id: RequestId, requested: unknown): ErrorResponse | undefined {
  if (requested === undefined || PER_REQUEST_PROTOCOL_VERSIONS.includes(requested as string)) return undefined;
  return errorResponse(id, {
    code: ErrorCode.UnsupportedProtocolVersion,
    message: `Unsupported protocol version ${describe(requested)}; this server speaks ${
      PER_REQUEST_PROTOCOL_VERSIONS.join(", ")
    } per request, or ${SUPPORTED_PROTOCOL_VERSIONS.join(", ")} through initialize`,
    data: { supported: [...PER_REQUEST_PROTOCOL_VERSIONS], requested: describe(requested) },
  });
}

/** Multi round-trip bookkeeping of one request: the answers given so far, the questions asked in this round. */
export interface Round {
  responses: Record<string, unknown>;
  asked: Record<string, { method: string; params: Record<string, unknown> }>;
  next: number;
}

/** Thrown inside a handler when it needs input the client has not given yet. */
class InputRequired extends Error {
  constructor() {
    super("input required from the client");
    this.name = "InputRequired";
  }
}

/** The handler context of a per-request (2026-07-28) request: everything comes from the request, nothing from a session. */
export class PerRequestContext extends Context {
  readonly scope: Scope;
  round?: Round;

  constructor(session: Session, msg: JsonRpcRequest) {
    super(session, msg);
    this.scope = toScope(this.meta);
  }

  override get protocolVersion(): string {
    return this.scope.version;
  }

  override get clientCapabilities(): Record<string, unknown> {
    return this.scope.caps;
  }

  override get clientInfo(): Implementation | undefined {
    return this.scope.info;
  }

  override log(level: LoggingLevel, data: unknown, logger?: string): void {
    if (levelRank(level) < 0) throw new RangeError(`unknown log level "${level}"`);
    const min = this.scope.logLevel;
    if (!min || levelRank(level) < levelRank(min)) return;
    const params = logger === undefined ? { level, data } : { level, logger, data };
    this.session.notify("notifications/message", params, this.requestId);
  }

  override sample(params: CreateMessageParams): Promise<CreateMessageResult> {
    this.#require("sampling", { sampling: {} }, "sampling/createMessage");
    return this.ask("sampling/createMessage", params) as Promise<CreateMessageResult>;
  }

  override async elicit<S extends StandardSchemaV1>(message: string, schema: S): Promise<ElicitResult<InferOutput<S>>> {
    if (!supportsFormElicitation(this.scope.caps)) {
      this.#require("", { elicitation: { form: {} } }, "elicitation/create");
    }
    return elicitOutcome(schema, await this.ask("elicitation/create", elicitParams(message, schema, true)));
  }

  override async elicitUrl(message: string, url: string, options?: ElicitUrlOptions): Promise<UrlElicitResult> {
    const e = urlElicitation(message, url, options?.elicitationId);
    if (!supportsUrlElicitation(this.scope.caps)) throw missingUrlElicitation();
    const res = await this.ask("elicitation/create", urlElicitParams(e, false));
    return { action: urlOutcome(res), elicitationId: e.elicitationId };
  }

  override async listRoots(): Promise<Root[]> {
    this.#require("roots", { roots: {} }, "roots/list");
    return rootsOf<Root>(await this.ask("roots/list", {}));
  }

  #require(cap: string, required: Record<string, unknown>, method: string): void {
    if (cap && this.scope.caps[cap]) return;
    throw new McpError(
      ErrorCode.MissingClientCapability,
      `${method} needs the client capability ${JSON.stringify(required)}, which this request did not declare`,
      { requiredCapabilities: required },
    );
  }

  // Answered keys come back with the retry; the first unanswered one ends this round.
  protected ask(method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const m = this.round;
    if (!m) {
      return Promise.reject(
        new McpError(
          ErrorCode.InvalidRequest,
          `${this.method} cannot ask the client for input under protocol ${this.protocolVersion}`,
        ),
      );
    }
    const key = String(m.next++);
    if (Object.hasOwn(m.responses, key)) return Promise.resolve(m.responses[key] as Record<string, unknown>);
    m.asked[key] = { method, params };
    return Promise.reject(new InputRequired());
  }
}

/** The error for a URL elicitation the request's client capabilities do not allow. */
export function missingUrlElicitation(): McpError {
  const required = { elicitation: { url: {} } };
  return new McpError(
    ErrorCode.MissingClientCapability,
    `URL elicitation needs the client capability ${JSON.stringify(required)}, which this request did not declare`,
    { requiredCapabilities: required },
  );
}
