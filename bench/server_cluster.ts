// One instance of a clustered MCP server, for bench/cluster.ts. Runs on Deno and Bun:
//   deno run -A bench/server_cluster.ts      bun bench/server_cluster.ts
// Environment:
//   BENCH_REDIS=redis://127.0.0.1:6379   join a Redis cluster (redisCluster, two clients: Bun.RedisClient on Bun,
//                                        the npm `redis` package on Deno); unset: no cluster option at all
//   BENCH_PREFIX=name                    the cluster's channel prefix (each measurement gets its own)
//   BENCH_PORT=0                         port (0: a free one); BENCH_REUSE=1 adds reusePort: true
//   BENCH_IMPL=/path/to/mod.ts           serve another copy of the library (as bench/server_lib.ts does)
// Tools: `echo` (the zod echo tool of bench/server_lib.ts, for tools/call throughput) and `touch` ({ uri }: calls
// server.resourceUpdated(uri), the trigger of a fan-out). One resource, bench://item, so that the server advertises
// resources (subscribe).
// Control (stdin, bench/common.ts): `READY <url>` once listening and, with a cluster, subscribed to the bus; `stats`
// → `STATS {json}` with `sessions` and `subscribed` (sessions subscribed to bench://item); `fire K rate uri` calls
// resourceUpdated(uri) K times at `rate` per second (due calls every 5 ms) and prints `FIRED {json}` when done.
import process from "node:process";
import { z } from "zod";
import { onStdinLines, rt, runtime, serveControl } from "./common.ts";
import type { ClusterTransport, RedisPublisher, RedisSubscriber } from "../mod.ts";

const env = process.env;
// BENCH_IMPL=<path to a mod.ts>: another copy of the library (its server.ts beside it), for trying a change.
const impl = env.BENCH_IMPL
  ? new URL(env.BENCH_IMPL, `file://${process.cwd()}/`).href
  : new URL("../mod.ts", import.meta.url).href;
const { McpServer, redisCluster, serve } = await import(impl) as typeof import("../mod.ts");
// Bench only: whether this instance's cluster node has subscribed to the bus (there is no public signal). A copy
// from before the server core (no coreOf) keeps its node in _cluster.ts.
type Node = { up: boolean } | undefined;
const { coreOf } = await import(new URL("server.ts", impl).href) as Partial<typeof import("../server.ts")>;
const clusterOf: (server: unknown) => Node = coreOf
  ? (server) => coreOf(server as Parameters<typeof coreOf>[0]).cluster
  : (await import(new URL("_cluster.ts", impl).href)).clusterOf;
const ITEM = "bench://item";

async function redisClients(url: string): Promise<{ publisher: RedisPublisher; subscriber: RedisSubscriber }> {
  if (rt.Bun?.RedisClient) {
    const publisher = new rt.Bun.RedisClient(url);
    const subscriber = new rt.Bun.RedisClient(url);
    await Promise.all([publisher.connect(), subscriber.connect()]);
    return { publisher, subscriber };
  }
  const { createClient } = await import("redis");
  const publisher = createClient({ url });
  const subscriber = publisher.duplicate();
  for (const c of [publisher, subscriber]) c.on("error", (e: unknown) => console.error(`redis: ${e}`));
  await Promise.all([publisher.connect(), subscriber.connect()]);
  // deno-lint-ignore no-explicit-any
  return { publisher: publisher as any, subscriber: subscriber as any };
}

let cluster: ClusterTransport | undefined;
if (env.BENCH_REDIS) {
  const { publisher, subscriber } = await redisClients(env.BENCH_REDIS);
  cluster = redisCluster({ publisher, subscriber, prefix: env.BENCH_PREFIX ?? "bench" });
}

const server = new McpServer({ name: "bench-cluster", version: "1.0.0", cluster });
server.tool("echo", {
  description: "Echoes its text",
  input: z.object({ text: z.string() }),
}, ({ text }) => text);
server.tool("touch", {
  description: "Tells the subscribers of uri (on every instance) that it changed",
  input: z.object({ uri: z.string() }),
}, ({ uri }) => {
  server.resourceUpdated(uri);
  return "ok";
});
server.resource(ITEM, { name: "item" }, () => "item");

// maxConnections above the default 10,000: the one-instance baseline holds 10,000 subscribers and the trigger.
const handle = serve(server, {
  port: Number(env.BENCH_PORT ?? 0),
  reusePort: env.BENCH_REUSE === "1",
  maxConnections: 20_000,
});

if (cluster) {
  // READY only once the node hears the bus: a notice published before would be lost.
  const node = clusterOf(server)!;
  const until = Date.now() + 20_000;
  while (!node.up) {
    if (Date.now() > until) {
      console.log("FAILED cluster node not subscribed after 20 s");
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
}

let subscribed = 0;
const countSubscribed = () => {
  subscribed = 0;
  for (const s of server.sessions) if (s.subscriptions.has(ITEM)) subscribed++;
  return subscribed;
};

serveControl(handle.url.href, () => ({
  runtime,
  pid: process.pid,
  sessions: server.sessions.size,
  subscribed: countSubscribed(),
  connections: handle.connections,
}));

onStdinLines((line) => {
  if (!line.startsWith("fire ")) return;
  // K calls at `rate` per second on a fixed schedule: each 5 ms tick fires what is due by then.
  const [, k, rate, uri] = line.split(/\s+/);
  const total = Number(k), perMs = Number(rate) / 1000;
  let fired = 0;
  const t0 = performance.now();
  const tick = () => {
    const due = Math.min(total, Math.floor((performance.now() - t0) * perMs) + 1);
    for (; fired < due; fired++) server.resourceUpdated(uri);
    if (fired < total) setTimeout(tick, 5);
    else console.log(`FIRED ${JSON.stringify({ fired, ms: performance.now() - t0 })}`);
  };
  tick();
});
