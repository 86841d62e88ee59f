// The server's core: everything one McpServer owns, built in one place and handed down. Sessions
// reach the registry, the fan-out, the tasks, the cluster node and the state sealer through it, and
// transports attach to it and detach from it through one lease, however the server is mounted.

import type { Implementation } from "../types.ts";
import type { McpServer } from "../server.ts";
import { StateSealer } from "../request_state.ts";
import { Registry } from "./registry.ts";
import { Fanout } from "./fanout.ts";
import { TaskManager } from "./tasks.ts";
import { ClusterNode } from "../_cluster/node.ts";
import type { Endpoint } from "../_cluster/forward.ts";
import { strip } from "../_util/values.ts";

/** A server's options with their defaults filled in, as {@linkcode McpServer.options} gives them. */
export type CoreOptions = McpServer["options"];

/**
 * A transport's hold on the core while it serves (`serve`, `mcpHandler`, either handler alone,
 * stdio): the tasks run and the cluster is joined while any lease is open.
 */
export interface Lease {
  /**
   * Ends the lease; a transport calls it as its close begins, with the rest of its close as `drain`.
   * The last lease to end aborts the tasks still running and marks them failed (so that a waiting
   * `tasks/result` is answered before the drain, and no other transport's tasks are cut). Then
   * `drain` runs, and then this transport leaves the cluster (a forwarded request still draining
   * needs the bus). Called again, it only runs `drain`.
   */
  end(drain?: () => Promise<void>): Promise<void>;
}

export class ServerCore {
  /** What the server offers. */
  readonly registry: Registry;
  /** The sessions of this process and the notifications that reach them. */
  readonly fanout: Fanout;
  /** Tasks of task-augmented calls. */
  readonly tasks: TaskManager;
  /** This instance's side of a cluster, with the `cluster` option. */
  readonly cluster?: ClusterNode;
  /** The serialized fields in front of each method's per-request results (serverInfo and the cache hint never change). */
  readonly resultPrefixes: Map<string, string> = new Map();
  #sealer?: StateSealer;
  #leases = 0;

  constructor(readonly server: McpServer, readonly options: CoreOptions, readonly serverInfo: Implementation) {
    this.fanout = new Fanout();
    if (options.cluster) {
      this.cluster = new ClusterNode(options.name, options.cluster, this.fanout, (m) => this.tasks.receive(m));
    }
    this.registry = new Registry(options.pageSize, (kind) => this.fanout.listChanged(kind));
    this.tasks = new TaskManager(options.tasks, options.pageSize, this.cluster);
  }

  /** Signs 2026-07-28 request states; made on first use. */
  get sealer(): StateSealer {
    return this.#sealer ??= new StateSealer(this.options.stateSecret);
  }

  /** Capabilities as sent in the `initialize` result. */
  capabilities(): Record<string, unknown> {
    const declared = this.options.capabilities ?? {};
    const caps: Record<string, unknown> = { logging: {} };
    const { tools, resources: fixed, templates, prompts } = this.registry;
    if (tools.size || declared.tools) caps.tools = { listChanged: true };
    const resources = fixed.size || templates.size || declared.resources;
    if (resources) caps.resources = { subscribe: true, listChanged: true };
    if (prompts.size || declared.prompts) caps.prompts = { listChanged: true };
    if (prompts.size || templates.size || declared.prompts || declared.resources) caps.completions = {};
    if (this.registry.taskTools()) {
      const list = this.tasks.listable ? {} : undefined;
      caps.tasks = strip({ list, cancel: {}, requests: { tools: { call: {} } } });
    }
    return caps;
  }

  /**
   * A transport starts serving the server: it holds the tasks up and joins the cluster (an HTTP
   * `endpoint` also serves requests forwarded from other instances) until it ends the lease.
   */
  attach(endpoint?: Endpoint): Lease {
    this.#leases++;
    const detach = this.cluster?.attach(endpoint);
    let open = true;
    return {
      end: async (drain) => {
        const first = open;
        open = false;
        const last = first && --this.#leases === 0;
        const stopped = last ? this.tasks.shutdown("The server shut down before the task ended") : undefined;
        try {
          await drain?.();
        } finally {
          if (first) detach?.();
        }
        await stopped;
      },
    };
  }
}
