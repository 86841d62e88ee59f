/**
 * A shared notes board that runs as many instances as you start, on Deno
 * and Bun alike, with its notes in Redis: a note posted through one
 * instance reaches the subscribers of every instance.
 *
 *   redis-server --port 6379 --save "" &
 *   REDIS_URL=redis://127.0.0.1:6379 PORT=8080 deno run --allow-net --allow-env examples/cluster.ts
 *   REDIS_URL=redis://127.0.0.1:6379 PORT=8081 bun run examples/cluster.ts
 *
 * Give both the same PORT to run them on one port (`reusePort`). Reads
 * REDIS_URL (default redis://127.0.0.1:6379), PORT (default 8080), HOST
 * (default 127.0.0.1) and STATE_SECRET (2026-07-28 request states; the
 * same on every instance). `digest_board` may run as a task: its record is
 * kept in Redis, so any instance answers `tasks/get`. Tests import {@linkcode createBoard} and
 * {@linkcode connectRedis}.
 */
import { z } from "zod";
import {
  type ClusterTransport,
  McpServer,
  redisCluster,
  type RedisKeys,
  type RedisPublisher,
  type RedisSubscriber,
  redisTaskStore,
  serve,
  type TaskStore,
} from "../mod.ts";

/** Where the notes live: a Redis list. */
export interface NoteStore {
  /** Appends a note; resolves with the number of notes. */
  append(note: string): Promise<number>;
  /** Every note, oldest first. */
  list(): Promise<string[]>;
}

/**
 * The board: `post_note` appends a note and tells every subscriber of
 * `notes://board`; `digest_board` summarizes it slowly, as a task if the
 * client likes.
 */
export function createBoard(
  options: { cluster?: ClusterTransport; store: NoteStore; stateSecret?: string; taskStore?: TaskStore },
): McpServer {
  const server = new McpServer({
    name: "notes-board",
    version: "1.0.0",
    instructions: "A board of short notes shared by everyone connected. Post with post_note; read notes://board.",
    cluster: options.cluster,
    stateSecret: options.stateSecret,
    tasks: { store: options.taskStore },
  });

  server.tool("digest_board", {
    description: "Count the notes on the board after a while (long work, stopped by cancellation)",
    input: z.object({ ms: z.number().int().min(0).max(600_000).default(1000).describe("How long the work takes") }),
    task: "optional",
  }, async ({ ms }, ctx) => {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, ms);
      ctx.signal.addEventListener("abort", () => (clearTimeout(t), reject(ctx.signal.reason)), { once: true });
    });
    return `${(await options.store.list()).length} notes on the board`;
  });

  server.tool("post_note", {
    description: "Post a note to the shared board",
    input: z.object({ text: z.string().min(1).max(2000).describe("The note") }),
  }, async ({ text }) => {
    const count = await options.store.append(JSON.stringify({ text, at: new Date().toISOString() }));
    server.resourceUpdated("notes://board");
    return `Posted note #${count}`;
  });

  server.resource("notes://board", {
    name: "board",
    description: "Every note on the board, oldest first",
    mimeType: "application/json",
  }, async () => {
    const notes = (await options.store.list()).map((n) => JSON.parse(n));
    return JSON.stringify(notes);
  });

  return server;
}

// deno-lint-ignore no-explicit-any
type Client = any;
const KEY = "notes:board";

/**
 * Two Redis clients (pub/sub takes one over) and the note store: Bun's
 * built-in `RedisClient`, or the npm `redis` package on Deno.
 */
export async function connectRedis(
  url: string,
): Promise<{ publisher: RedisPublisher & RedisKeys; subscriber: RedisSubscriber; store: NoteStore }> {
  // deno-lint-ignore no-explicit-any
  const Bun = (globalThis as any).Bun;
  if (Bun?.RedisClient) {
    const publisher: Client = new Bun.RedisClient(url);
    const subscriber: Client = new Bun.RedisClient(url);
    return {
      publisher,
      subscriber,
      store: {
        append: (note) => publisher.send("RPUSH", [KEY, note]),
        list: () => publisher.send("LRANGE", [KEY, "0", "-1"]),
      },
    };
  }
  const { createClient } = await import("redis");
  const publisher: Client = createClient({ url });
  const subscriber: Client = publisher.duplicate();
  for (const c of [publisher, subscriber]) {
    // The client reconnects by itself; the cluster reports what that means for the server.
    c.on("error", () => {});
    c.connect().catch(() => {});
  }
  return {
    publisher,
    subscriber,
    store: {
      append: (note) => publisher.rPush(KEY, note),
      list: () => publisher.lRange(KEY, 0, -1),
    },
  };
}

if (import.meta.main) {
  // deno-lint-ignore no-explicit-any
  const rt = globalThis as any;
  const env = (name: string): string | undefined => rt.Deno?.env.get(name) ?? rt.process?.env[name];
  const { publisher, subscriber, store } = await connectRedis(env("REDIS_URL") ?? "redis://127.0.0.1:6379");
  const server = createBoard({
    cluster: redisCluster({ publisher, subscriber }),
    store,
    stateSecret: env("STATE_SECRET"),
    taskStore: redisTaskStore({ client: publisher }),
  });
  const handle = serve(server, { port: Number(env("PORT") ?? 8080), hostname: env("HOST"), reusePort: true });
  console.log(`Notes board listening on ${handle.url} (WebSocket) and ${handle.httpUrl} (Streamable HTTP)`);
}
