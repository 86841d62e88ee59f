// The per-request (2026-07-28) routes and how their results are dressed: no setLevel or subscribe
// (there is no session), but discovery, `subscriptions/listen` streams and the tasks extension's
// methods; results say they are complete and carry cache hints and serverInfo; and the multi
// round trip of `input_required`, whose answers come back with a sealed `requestState`.

import { ErrorCode } from "../jsonrpc.ts";
import type { SubscriptionFilter } from "../types.ts";
import type { Context } from "../context.ts";
import type { CacheHint } from "../server.ts";
import type { ServerCore } from "../_core/core.ts";
import { TASKS_EXTENSION, wirePerRequestTask } from "../_core/tasks.ts";
import { readResource, type Route, ROUTES } from "./routes.ts";
import { requireTasks } from "./tools.ts";
import { missingUrlElicitation, type PerRequestContext, type Round } from "./per_request_context.ts";
import { supportsUrlElicitation, urlElicitParams } from "./elicitation.ts";
import { UrlElicitationRequiredError } from "../url_elicitation.ts";
import { inFlight } from "../context.ts";
import { META, PER_REQUEST_PROTOCOL_VERSIONS, SUPPORTED_PROTOCOL_VERSIONS } from "../versions.ts";
import { principalOf } from "../_util/principal.ts";
import { invalid, isRecord, isThenable, then } from "../_util/values.ts";

// The per-request era has no error -32042: a handler's UrlElicitationRequiredError becomes a round of URL
// elicitations (keyed apart from the numbered questions of ask), and the retry runs the handler again.
function askUrls(ctx: PerRequestContext, round: Round, e: unknown): boolean {
  if (!(e instanceof UrlElicitationRequiredError)) return false;
  if (!supportsUrlElicitation(ctx.scope.caps)) throw missingUrlElicitation();
  for (const el of e.elicitations) {
    round.asked[`url:${el.elicitationId}`] = { method: "elicitation/create", params: urlElicitParams(el, false) };
  }
  return true;
}

const DEFAULT_READ_CACHE: CacheHint = { ttlMs: 0, cacheScope: "private" };
const DEFAULT_LIST_CACHE: CacheHint = { ttlMs: 60_000, cacheScope: "private" };
const CACHED: Record<string, "discover" | "tools" | "prompts" | "resources" | "templates"> = {
  "server/discover": "discover",
  "tools/list": "tools",
  "prompts/list": "prompts",
  "resources/list": "resources",
  "resources/templates/list": "templates",
};
const LISTEN_FLAGS = ["toolsListChanged", "promptsListChanged", "resourcesListChanged"] as const;

function discover(core: ServerCore): unknown {
  // 2025-11-25's tasks capability becomes the extension here.
  const { tasks, ...capabilities } = core.server.capabilities;
  if (tasks) capabilities.extensions = { [TASKS_EXTENSION]: {} };
  const res: Record<string, unknown> = {
    supportedVersions: [...PER_REQUEST_PROTOCOL_VERSIONS, ...SUPPORTED_PROTOCOL_VERSIONS],
    capabilities,
  };
  if (core.options.instructions) res.instructions = core.options.instructions;
  return res;
}

function listen(core: ServerCore, p: Record<string, unknown>, ctx: Context): unknown {
  const f = p.notifications;
  if (!isRecord(f)) throw invalid("subscriptions/listen needs a notifications filter object");
  const honoured: SubscriptionFilter = {};
  for (const k of LISTEN_FLAGS) if (f[k] === true) honoured[k] = true;
  if (f.resourceSubscriptions !== undefined) {
    const uris = f.resourceSubscriptions;
    if (!Array.isArray(uris) || !uris.every((u) => typeof u === "string")) {
      throw invalid("resourceSubscriptions must be an array of URI strings");
    }
    honoured.resourceSubscriptions = [...uris];
  }
  return core.fanout.listen(ctx.session, ctx.requestId, honoured);
}

/** The per-request routes, by method. */
export const PER_REQUEST_ROUTES: Record<string, Route> = Object.assign(Object.create(null), ROUTES, {
  "server/discover": discover,
  "resources/read": (core: ServerCore, p: Record<string, unknown>, ctx: Context) =>
    readResource(core, p, ctx, ErrorCode.InvalidParams, DEFAULT_READ_CACHE),
  "subscriptions/listen": listen,
  "tasks/get": (core: ServerCore, p: Record<string, unknown>, ctx: Context) => {
    requireTasks(ctx);
    return core.tasks.find(p.taskId, ctx).then((task) => wirePerRequestTask(task, true));
  },
  "tasks/update": (core: ServerCore, p: Record<string, unknown>, ctx: Context) => {
    requireTasks(ctx);
    return core.tasks.update(p.taskId, p.inputResponses, ctx).then(() => ({}));
  },
  "tasks/cancel": (core: ServerCore, p: Record<string, unknown>, ctx: Context) => {
    requireTasks(ctx);
    return core.tasks.cancel(p.taskId, ctx, false).then(() => ({}));
  },
});
for (const m of ["logging/setLevel", "resources/subscribe", "resources/unsubscribe", "tasks/result", "tasks/list"]) {
  delete PER_REQUEST_ROUTES[m];
}

const ROUND_TRIP_METHODS = new Set(["tools/call", "prompts/get", "resources/read"]);

/** Runs a route for a per-request request and dresses its result: resultType, cache hints, serverInfo. */
export function runPerRequest(
  route: Route,
  core: ServerCore,
  p: Record<string, unknown>,
  ctx: PerRequestContext,
): unknown {
  if (ROUND_TRIP_METHODS.has(ctx.method)) return roundTrip(route, core, p, ctx);
  return then(route(core, p, ctx), (r) => dress(core, ctx.method, r));
}

function roundTrip(route: Route, core: ServerCore, p: Record<string, unknown>, ctx: PerRequestContext): unknown {
  const sealer = core.sealer;
  const principal = principalOf(ctx.auth);
  // The digest is only needed to open a requestState or to seal one: most calls do neither. The
  // parts are serialized now, before the handler can touch the arguments.
  const parts = JSON.stringify([ctx.method, p.name ?? p.uri ?? null, p.arguments ?? null, principal]);
  let binding: string | undefined;
  const bind = async () => (binding ??= await sealer.bindingOf(parts));
  let given: Record<string, unknown> | undefined;
  if (p.inputResponses !== undefined) {
    if (!isRecord(p.inputResponses)) throw invalid("inputResponses must be an object");
    given = p.inputResponses;
  }
  // Runs the route with the answers so far; synchronous when the route is and nothing was asked.
  const run = (responses: Record<string, unknown>): unknown => {
    const round: Round = { responses, asked: {}, next: 0 };
    ctx.round = round;
    const asked = () => Object.keys(round.asked).length > 0;
    const inputRequired = async () => {
      // Whatever the handler still runs belongs to a round that is over.
      inFlight.abort(ctx, new DOMException("input required from the client", "AbortError"));
      const requestState = await sealer.seal({
        b: await bind(),
        r: responses,
        e: Date.now() + (core.options.requestStateTtl ?? 600_000),
      });
      return dress(core, ctx.method, { resultType: "input_required", inputRequests: round.asked, requestState });
    };
    let out: unknown;
    try {
      out = route(core, p, ctx);
    } catch (e) {
      if (!askUrls(ctx, round, e) && !asked()) throw e;
      return inputRequired();
    }
    if (!isThenable(out)) return asked() ? inputRequired() : dress(core, ctx.method, out);
    return Promise.resolve(out).then(
      (r) => (asked() ? inputRequired() : dress(core, ctx.method, r)),
      (e) => {
        if (!askUrls(ctx, round, e) && !asked()) throw e;
        return inputRequired();
      },
    );
  };
  if (p.requestState === undefined) return run({ ...given });
  return bind().then((b) => sealer.open(p.requestState, b)).then((state) => run({ ...state.r, ...given }));
}

// serverInfo and the cache options never change after construction: the fields a serialized result gets
// are built once per server and method.
function prefixOf(core: ServerCore, method: string, hint: CacheHint | undefined): string {
  let prefix = core.resultPrefixes.get(method);
  if (prefix === undefined) {
    const meta = JSON.stringify({ [META.serverInfo]: core.server.serverInfo });
    prefix = `"resultType":"complete",${
      hint ? `"ttlMs":${hint.ttlMs},"cacheScope":"${hint.cacheScope}",` : ""
    }"_meta":${meta}`;
    core.resultPrefixes.set(method, prefix);
  }
  return prefix;
}

function dress(core: ServerCore, method: string, result: unknown): unknown {
  const kind = CACHED[method];
  const hint = kind ? core.options.cache?.[kind] ?? DEFAULT_LIST_CACHE : undefined;
  if (typeof result === "string") {
    // A cached list or a text tool result, already serialized: splice the extra fields in front.
    const extra = prefixOf(core, method, hint);
    return result === "{}" ? `{${extra}}` : `{${extra},${result.slice(1)}`;
  }
  const info = { [META.serverInfo]: core.server.serverInfo };
  const r = { ...(result as Record<string, unknown>) };
  r.resultType ??= "complete";
  if (hint) (r.ttlMs ??= hint.ttlMs, r.cacheScope ??= hint.cacheScope);
  r._meta = { ...info, ...(r._meta as Record<string, unknown> | undefined) };
  return r;
}
