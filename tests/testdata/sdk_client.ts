// The official SDK client as the tests use it: every client capability declared, with fixed answers.
// The SDK's "./*" export maps types to "*.js.d.ts", which does not exist, so under Deno (its npm resolution,
// no node_modules) these imports are untyped: the callbacks below annotate what the tests rely on.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import assert from "node:assert/strict";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";

/**
 * A client that accepts elicitation with `{ name: "Ada" }` (form mode only), answers sampling with a summary
 * naming the prompt's length, and lists one root, `file:///work`.
 */
export function newSdkClient(name = "sdk-test"): Client {
  const client = new Client({ name, version: "1.0.0" }, {
    capabilities: { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } },
  });
  client.setRequestHandler(ElicitRequestSchema, (req: { params: { mode?: string } }) => {
    if ((req.params.mode ?? "form") !== "form") throw new Error(`unexpected elicitation mode ${req.params.mode}`);
    return { action: "accept", content: { name: "Ada" } };
  });
  client.setRequestHandler(CreateMessageRequestSchema, (req: { params: { messages: { content: unknown }[] } }) => {
    const first = req.params.messages[0].content as { type: string; text: string };
    return {
      role: "assistant",
      model: "test-model",
      content: { type: "text", text: `summary of ${first.text.length} chars` },
    };
  });
  client.setRequestHandler(ListRootsRequestSchema, () => ({ roots: [{ uri: "file:///work", name: "work" }] }));
  return client;
}

/**
 * Calls the example server's `slow` tool, aborts it through an AbortSignal at
 * its first progress report, and checks the call rejects and the connection
 * still serves `echo`. Whether the server-side handler has ended is the
 * caller's to check: how soon depends on the transport.
 */
export async function cancelSlowCall(client: Client): Promise<void> {
  const controller = new AbortController();
  const call = client.callTool({ name: "slow", arguments: { ms: 30_000, steps: 100 } }, undefined, {
    signal: controller.signal,
    onprogress: () => controller.abort("user gave up"),
  });
  await assert.rejects(call);
  const res = await client.callTool({ name: "echo", arguments: { text: "still here" } });
  assert.deepEqual(res.content, [{ type: "text", text: "still here" }]);
}
