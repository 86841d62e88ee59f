// bearerAuth over real sockets: which headers it admits, several tokens for
// rotation, and the settings it refuses at construction rather than locking
// everyone out in silence. (README's snippet is run by tests/readme.test.ts.)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { bearerAuth, McpServer, type ServeHandle } from "../mod.ts";
import { connect } from "../client.ts";
import { start } from "./testdata/helpers.ts";

describe("bearerAuth", () => {
  let h: ServeHandle;
  before(() => {
    const server = new McpServer({ name: "t", version: "1" });
    server.tool("whoami", {}, (_args, ctx) => JSON.stringify(ctx.auth));
    h = start(server, { authenticate: bearerAuth({ token: ["old-token", undefined, "new.token_2~+/=="] }) });
  });
  after(() => h.close({ timeout: 100 }));

  const status = async (authorization?: string) => {
    const res = await fetch(h.httpUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        ...(authorization === undefined ? {} : { authorization }),
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } },
      }),
    });
    await res.body?.cancel();
    return res.status;
  };

  test("either configured token is admitted, as the default principal", async () => {
    for (const ok of ["Bearer old-token", "bearer new.token_2~+/==", "BEARER  old-token"]) {
      assert.equal(await status(ok), 200, ok);
    }
    const client = await connect(h.url, { headers: { authorization: "Bearer new.token_2~+/==" } });
    const who = await client.callTool("whoami", {});
    assert.deepEqual(who.content, [{ type: "text", text: '"bearer"' }]);
    await client.close();
  });

  test("anything else gets 401", async () => {
    for (
      const bad of [
        undefined,
        "",
        "Bearer",
        "Bearer old-token extra",
        "Bearer old-toke",
        "Bearer old-tokenn",
        "Token old-token",
        "old-token",
        "Bearer undefined",
        "Bearer old-token,new.token_2~+/==",
      ]
    ) {
      assert.equal(await status(bad), 401, String(bad));
    }
  });

  test("a token no header can carry, or principal false, is refused at construction", () => {
    assert.throws(() => bearerAuth({ token: "s3cret\n" }), /white space \(a trailing newline from a file\?\)/);
    assert.throws(() => bearerAuth({ token: ["ok", "not ok"] }), /white space/);
    assert.throws(() => bearerAuth({ token: "caf\u00e9" }), /other characters/);
    assert.throws(() => bearerAuth({ token: "t", principal: false }), /principal false/);
  });
});
