// Unit tests of _dispatch/results.ts: what handlers return, shaped into MCP results (tools, resources,
// prompts) and JSON-RPC frames, and what they throw, shaped into error objects.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, McpError } from "../jsonrpc.ts";
import type { ContentBlock, PromptMessage } from "../types.ts";
import type { PromptReturn, ResourceReturn } from "../server.ts";
import {
  ErrorResponse,
  errorResponse,
  errorResult,
  responseFrame,
  textToolResult,
  toCallToolResult,
  toPromptResult,
  toReadResult,
} from "../_dispatch/results.ts";
import { toErrorObject } from "../_util/values.ts";

const text = (t: string): ContentBlock => ({ type: "text", text: t });

describe("toCallToolResult", () => {
  test("nothing is an empty result", () => {
    assert.deepEqual(toCallToolResult(undefined), { content: [] });
    assert.deepEqual(toCallToolResult(null), { content: [] });
  });

  test("a string is one text block; other primitives their text", () => {
    assert.deepEqual(toCallToolResult("hi"), { content: [text("hi")] });
    assert.deepEqual(toCallToolResult(""), { content: [text("")] });
    assert.deepEqual(toCallToolResult(42), { content: [text("42")] });
    assert.deepEqual(toCallToolResult(false), { content: [text("false")] });
    assert.deepEqual(toCallToolResult(10n), { content: [text("10")] });
  });

  test("one content block is the whole content", () => {
    const image: ContentBlock = { type: "image", data: "AAAA", mimeType: "image/png" };
    assert.deepEqual(toCallToolResult(image), { content: [image] });
    const link: ContentBlock = { type: "resource_link", uri: "file:///a", name: "a" };
    assert.deepEqual(toCallToolResult(link), { content: [link] });
    const embedded: ContentBlock = { type: "resource", resource: { uri: "file:///a", text: "x" } };
    assert.deepEqual(toCallToolResult(embedded), { content: [embedded] });
    const audio: ContentBlock = { type: "audio", data: "AAAA", mimeType: "audio/wav" };
    assert.deepEqual(toCallToolResult(audio), { content: [audio] });
  });

  test("an array of content blocks is the content, as it is", () => {
    const blocks = [text("a"), { type: "image", data: "AA==", mimeType: "image/png" } as ContentBlock];
    const r = toCallToolResult(blocks);
    assert.equal(r.content, blocks);
    assert.equal("structuredContent" in r, false);
    assert.deepEqual(toCallToolResult([]), { content: [] });
  });

  test("an array with anything but content blocks is an error, not structured output", () => {
    assert.throws(() => toCallToolResult([text("a"), "b"]), /not all content blocks/);
    assert.throws(() => toCallToolResult([{ type: "video" }]), /not all content blocks/);
    assert.throws(() => toCallToolResult([1, 2, 3]), /not all content blocks/);
    assert.throws(() => toCallToolResult([null]), /not all content blocks/);
  });

  test("a CallToolResult is passed through untouched", () => {
    const result = { content: [text("failed")], isError: true, structuredContent: { a: 1 }, _meta: { k: "v" } };
    assert.equal(toCallToolResult(result), result);
    const empty = { content: [] };
    assert.equal(toCallToolResult(empty), empty);
  });

  test("a plain object is structured output with its JSON as the text", () => {
    const out = { temperature: 21.5, city: "Paris", tags: ["a"] };
    const r = toCallToolResult(out);
    assert.equal(r.structuredContent, out);
    assert.deepEqual(r.content, [text(JSON.stringify(out))]);
    assert.equal("isError" in r, false);
  });

  test("an object that only looks like a block or a result is structured output", () => {
    // `type` not one of the content types; `content` not an array.
    for (const out of [{ type: "video", src: "x" }, { content: "not an array" }, { type: 1 }]) {
      const r = toCallToolResult(out);
      assert.equal(r.structuredContent, out, JSON.stringify(out));
      assert.deepEqual(r.content, [text(JSON.stringify(out))]);
    }
  });
});

describe("textToolResult", () => {
  const cases: [string, string][] = [
    ["plain", "hello world"],
    ["empty", ""],
    ["quotes and backslashes", 'say "hi" \\ bye'],
    ["newlines and tabs", "a\nb\r\n\tc"],
    ["every control character", Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join("")],
    ["DEL and non-ASCII", "\u007f é 中文 \u2028\u2029"],
    ["a surrogate pair", "emoji 😀"],
    ["a lone high surrogate", "bad \ud800 end"],
    ["a lone low surrogate", "\udfff"],
    ["HTML", "</script><b>&amp;</b>"],
    ["a long plain text", "x".repeat(5000)],
    ["a long text with a quote at its end", `${"y".repeat(5000)}"`],
    ["a 4095-character plain text", "z".repeat(4095)],
  ];
  for (const [name, t] of cases) {
    test(`${name}: the same JSON as serializing the result object`, () => {
      const json = textToolResult(t);
      assert.equal(json, JSON.stringify({ content: [{ type: "text", text: t }] }));
      assert.deepEqual(JSON.parse(json), { content: [text(t)] });
    });
  }
});

describe("errorResult", () => {
  test("a tool error the model can read", () => {
    assert.deepEqual(errorResult("no such city"), { content: [text("no such city")], isError: true });
  });
});

describe("toReadResult", () => {
  const uri = "file:///notes.txt";

  test("a string is text contents, with the mime type when there is one", () => {
    assert.deepEqual(toReadResult(uri, "text/plain", "hello"), {
      contents: [{ uri, mimeType: "text/plain", text: "hello" }],
    });
    const r = toReadResult(uri, undefined, "hello");
    assert.deepEqual(r, { contents: [{ uri, text: "hello" }] });
    assert.equal("mimeType" in r.contents[0], false, "no mimeType: undefined in the result");
  });

  test("bytes are blob contents in base64", () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    assert.deepEqual(toReadResult(uri, "application/octet-stream", bytes), {
      contents: [{ uri, mimeType: "application/octet-stream", blob: "AAEC+v8=" }],
    });
    const r = toReadResult(uri, undefined, bytes);
    assert.deepEqual(r, { contents: [{ uri, blob: "AAEC+v8=" }] });
  });

  test("large bytes are encoded whole, with the runtime's Uint8Array.toBase64 or without it", () => {
    const blobOf = (bytes: Uint8Array) => (toReadResult(uri, undefined, bytes).contents[0] as { blob: string }).blob;
    const bytes = new Uint8Array(100_000).map((_, i) => (i * 31) & 0xff);
    const blob = blobOf(bytes);
    assert.deepEqual(Uint8Array.from(atob(blob), (c) => c.charCodeAt(0)), bytes);
    // The fallback for runtimes without it encodes in slices (one spread of 100,000 arguments may overflow).
    const plain = bytes.slice();
    Object.defineProperty(plain, "toBase64", { value: undefined });
    assert.equal(blobOf(plain), blob);
    const small = new Uint8Array([0, 1, 2, 250, 255]);
    Object.defineProperty(small, "toBase64", { value: undefined });
    assert.equal(blobOf(small), "AAEC+v8=");
  });

  test("a contents object keeps its own uri and mime type, and gets the resource's when it has none", () => {
    assert.deepEqual(toReadResult(uri, "text/plain", { text: "a" }), {
      contents: [{ uri, mimeType: "text/plain", text: "a" }],
    });
    assert.deepEqual(
      toReadResult(uri, "text/plain", { uri: "file:///other", mimeType: "text/markdown", text: "# a" }),
      {
        contents: [{ uri: "file:///other", mimeType: "text/markdown", text: "# a" }],
      },
    );
    const r = toReadResult(uri, undefined, { text: "a", _meta: { k: 1 } });
    assert.deepEqual(r, { contents: [{ uri, text: "a", _meta: { k: 1 } }] });
    assert.equal("mimeType" in r.contents[0], false);
    assert.equal("blob" in r.contents[0], false, "no blob: undefined for a text contents");
  });

  test("a contents object's blob may be bytes or base64 already", () => {
    const bytes = { blob: new Uint8Array([104, 105]) } as unknown as ResourceReturn;
    assert.deepEqual(toReadResult(uri, "image/png", bytes), {
      contents: [{ uri, mimeType: "image/png", blob: "aGk=" }],
    });
    assert.deepEqual(toReadResult(uri, undefined, { blob: "aGk=" }), { contents: [{ uri, blob: "aGk=" }] });
  });

  test("an array is several contents, each shaped alike", () => {
    const out = ["one", new Uint8Array([1]), { uri: "file:///b", text: "b" }] as unknown as ResourceReturn;
    assert.deepEqual(toReadResult(uri, "text/plain", out), {
      contents: [
        { uri, mimeType: "text/plain", text: "one" },
        { uri, mimeType: "text/plain", blob: "AQ==" },
        { uri: "file:///b", mimeType: "text/plain", text: "b" },
      ],
    });
  });

  test("a ReadResourceResult is passed through untouched", () => {
    const result = { contents: [{ uri: "file:///x", text: "x" }], _meta: { a: 1 } };
    assert.equal(toReadResult(uri, "text/plain", result), result);
  });

  test("anything else is an error naming what a reader may return", () => {
    for (const out of [42, null, undefined, { name: "no text or blob" }, [1]]) {
      assert.throws(
        () => toReadResult(uri, undefined, out as unknown as ResourceReturn),
        /must return text, bytes, contents objects or \{ contents \}/,
        String(out),
      );
    }
  });
});

describe("toPromptResult", () => {
  const messages: PromptMessage[] = [
    { role: "user", content: text("Hi") },
    { role: "assistant", content: text("Hello") },
  ];

  test("a string is one user message", () => {
    assert.deepEqual(toPromptResult("Review this"), { messages: [{ role: "user", content: text("Review this") }] });
  });

  test("an array is the messages", () => {
    assert.deepEqual(toPromptResult(messages), { messages });
  });

  test("a GetPromptResult is passed through", () => {
    const result = { messages, _meta: { k: 1 } };
    assert.equal(toPromptResult(result), result);
  });

  test("the prompt's description is added, unless the result has its own", () => {
    assert.deepEqual(toPromptResult("x", "A review"), {
      description: "A review",
      messages: [{ role: "user", content: text("x") }],
    });
    assert.deepEqual(toPromptResult({ description: "Own", messages }, "Registered"), { description: "Own", messages });
    const result = { messages };
    assert.deepEqual(toPromptResult(result, "Registered"), { description: "Registered", messages });
    assert.equal("description" in result, false, "the handler's object is not changed");
    assert.equal("description" in toPromptResult(messages), false);
  });

  test("anything else is an error", () => {
    for (const out of [42, null, undefined, {}, { messages: "no" }]) {
      assert.throws(
        () => toPromptResult(out as unknown as PromptReturn),
        /must return text, messages or \{ messages \}/,
      );
    }
  });
});

describe("responseFrame", () => {
  test("a result object is serialized into a response", () => {
    const frame = responseFrame(7, { tools: [] });
    assert.equal(frame, '{"jsonrpc":"2.0","id":7,"result":{"tools":[]}}');
    assert.deepEqual(JSON.parse(frame as string), { jsonrpc: "2.0", id: 7, result: { tools: [] } });
  });

  test("a string is JSON already and goes in as it is", () => {
    assert.equal(responseFrame(1, '{"content":[]}'), '{"jsonrpc":"2.0","id":1,"result":{"content":[]}}');
    assert.equal(responseFrame(1, textToolResult("x")), `{"jsonrpc":"2.0","id":1,"result":${textToolResult("x")}}`);
  });

  test("string ids are quoted and escaped", () => {
    const frame = responseFrame('a"b', {}) as string;
    assert.deepEqual(JSON.parse(frame), { jsonrpc: "2.0", id: 'a"b', result: {} });
  });

  test("a result that cannot be serialized is an internal error for that id", () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const result of [{ n: 1n }, cycle]) {
      const r = responseFrame("req-1", result);
      assert.ok(r instanceof ErrorResponse);
      assert.equal(r.code, ErrorCode.InternalError);
      const frame = JSON.parse(r.text);
      assert.equal(frame.id, "req-1");
      assert.equal(frame.error.code, ErrorCode.InternalError);
      assert.match(frame.error.message, /could not be serialized/);
      assert.equal(frame.result, undefined);
    }
  });
});

describe("errorResponse", () => {
  test("the frame and its code, without scopes for most errors", () => {
    const r = errorResponse(3, { code: ErrorCode.InvalidParams, message: "bad" });
    assert.equal(r.code, ErrorCode.InvalidParams);
    assert.equal(r.requiredScopes, undefined);
    assert.deepEqual(JSON.parse(r.text), { jsonrpc: "2.0", id: 3, error: { code: -32602, message: "bad" } });
    assert.equal(JSON.parse(errorResponse(null, { code: -32700, message: "parse" }).text).id, null);
  });

  test("an insufficient-scope error carries its required scopes beside the frame", () => {
    const error = { code: ErrorCode.InsufficientScope, message: "need scopes", data: { requiredScopes: ["a", "b"] } };
    const r = errorResponse(1, error);
    assert.deepEqual(r.requiredScopes, ["a", "b"]);
    assert.deepEqual(JSON.parse(r.text).error, error);
  });

  test("required scopes that are not a list of strings are not passed on", () => {
    for (const data of [undefined, {}, { requiredScopes: "a" }, { requiredScopes: ["a", 1] }]) {
      const r = errorResponse(1, { code: ErrorCode.InsufficientScope, message: "m", data });
      assert.equal(r.requiredScopes, undefined, JSON.stringify(data));
      assert.equal(r.code, ErrorCode.InsufficientScope);
    }
  });
});

describe("toErrorObject", () => {
  test("an McpError keeps its code, message and data", () => {
    assert.deepEqual(toErrorObject(new McpError(ErrorCode.InvalidParams, "page must be positive", { page: -1 })), {
      code: -32602,
      message: "page must be positive",
      data: { page: -1 },
    });
    const plain = toErrorObject(new McpError(ErrorCode.ResourceNotFound, "gone"));
    assert.deepEqual(plain, { code: -32002, message: "gone" });
    assert.equal("data" in plain, false);
  });

  test("any other Error is an internal error with its message, never its stack", () => {
    const e = new TypeError("x is not a function");
    const o = toErrorObject(e);
    assert.deepEqual(o, { code: ErrorCode.InternalError, message: "Internal error: x is not a function" });
    assert.ok(!JSON.stringify(o).includes(".ts:"), "no stack frames");
  });

  test("a thrown non-Error is an internal error with its text", () => {
    assert.deepEqual(toErrorObject("boom"), { code: -32603, message: "Internal error: boom" });
    assert.deepEqual(toErrorObject(404), { code: -32603, message: "Internal error: 404" });
    assert.deepEqual(toErrorObject(undefined), { code: -32603, message: "Internal error: undefined" });
  });
});
