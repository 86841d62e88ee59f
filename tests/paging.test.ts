// Unit tests of list paging: the cursors of _core/paging.ts (naming their list, refusing anything
// else with invalid params) and Registry.page of _core/registry.ts (page size, nextCursor, the cache
// of serialized pages and its invalidation when what a kind lists changes).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ErrorCode, McpError } from "../jsonrpc.ts";
import { decodeCursor, encodeCursor, pageOf } from "../_core/paging.ts";
import { type Kind, type PromptEntry, Registry, type ToolEntry } from "../_core/registry.ts";

/** Asserts that `f` throws the invalid-params error of a bad cursor. */
function refused(f: () => unknown, why: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof McpError, `${why}: an McpError`);
    assert.equal(e.code, ErrorCode.InvalidParams, why);
    assert.match(e.message, /Invalid cursor/, why);
    return true;
  });
}

describe("encodeCursor / decodeCursor", () => {
  test("no cursor is the first page", () => {
    assert.equal(decodeCursor("tools", undefined), 0);
  });

  test("a cursor gives back its offset in its own list", () => {
    for (const kind of ["tools", "resources", "resources/templates", "prompts"]) {
      for (const offset of [0, 1, 50, 999_999_999]) {
        assert.equal(decodeCursor(kind, encodeCursor(kind, offset)), offset);
      }
    }
  });

  test("a cursor is an opaque string, not the offset in clear", () => {
    const c = encodeCursor("tools", 50);
    assert.equal(typeof c, "string");
    assert.notEqual(c, "50");
    assert.notEqual(encodeCursor("tools", 50), encodeCursor("prompts", 50));
  });

  test("another list's cursor is refused", () => {
    refused(() => decodeCursor("prompts", encodeCursor("tools", 2)), "tools cursor in prompts");
    refused(() => decodeCursor("tools", encodeCursor("prompts", 2)), "prompts cursor in tools");
    // One list's name is the start of the other's: the separator keeps them apart.
    refused(() => decodeCursor("resources/templates", encodeCursor("resources", 2)), "resources in templates");
    refused(() => decodeCursor("resources", encodeCursor("resources/templates", 2)), "templates in resources");
  });

  test("anything but a string is refused", () => {
    for (const v of [null, 0, 5, true, {}, [], ["dG9vbHM6Mg=="]]) refused(() => decodeCursor("tools", v), String(v));
  });

  test("a string that is not base64 is refused", () => {
    refused(() => decodeCursor("tools", "not base64!"), "not base64");
    refused(() => decodeCursor("tools", "A"), "a lone base64 character");
  });

  test("a cursor whose offset is not a plain decimal of at most 9 digits is refused", () => {
    for (const tail of ["", "-1", "+1", "1.5", "1e3", "0x10", " 5", "5 ", "1234567890", "NaN", "Infinity", "\u00b2"]) {
      refused(() => decodeCursor("tools", btoa(`tools:${tail}`)), JSON.stringify(tail));
    }
    assert.equal(decodeCursor("tools", btoa("tools:007")), 7);
    assert.equal(decodeCursor("tools", btoa("tools:999999999")), 999_999_999);
  });

  test("a cursor over 200 characters is refused, even one that would name its list and offset", () => {
    // The lists' names are short, so no cursor the server issues comes near the bound; a long name shows it.
    const fits = "k".repeat(140), over = "k".repeat(150);
    assert.ok(encodeCursor(fits, 1).length <= 200);
    assert.equal(decodeCursor(fits, encodeCursor(fits, 1)), 1);
    assert.ok(encodeCursor(over, 1).length > 200);
    refused(() => decodeCursor(over, encodeCursor(over, 1)), "a 204-character cursor");
    refused(() => decodeCursor("tools", "A".repeat(1_000_000)), "a megabyte");
  });
});

describe("pageOf", () => {
  const all = ["a", "b", "c", "d", "e"];

  test("a page of `size` items from `offset`, with the cursor of the next page while more remain", () => {
    const first = pageOf("tools", "tools", all, 0, 2);
    assert.deepEqual(first.tools, ["a", "b"]);
    assert.equal(decodeCursor("tools", first.nextCursor), 2);
    const second = pageOf("tools", "tools", all, 2, 2);
    assert.deepEqual(second.tools, ["c", "d"]);
    assert.equal(decodeCursor("tools", second.nextCursor), 4);
  });

  test("the last page has no nextCursor, even when it is full", () => {
    const last = pageOf("tools", "tools", all, 4, 2);
    assert.deepEqual(last, { tools: ["e"] });
    assert.equal("nextCursor" in pageOf("tools", "tools", all, 3, 2), false, "items 3 and 4 end the list");
    assert.deepEqual(pageOf("tools", "tools", all, 0, 5), { tools: all });
  });

  test("an offset past the end is an empty last page", () => {
    assert.deepEqual(pageOf("prompts", "prompts", all, 40, 2), { prompts: [] });
    assert.deepEqual(pageOf("prompts", "prompts", [], 0, 2), { prompts: [] });
  });

  test("the next cursor names the list", () => {
    const p = pageOf("resources/templates", "resourceTemplates", all, 0, 1);
    assert.equal(decodeCursor("resources/templates", p.nextCursor), 1);
    refused(() => decodeCursor("resources", p.nextCursor), "a templates cursor in resources");
  });
});

// -- Registry.page -----------------------------------------------------------------------------------

function tool(name: string): ToolEntry {
  return {
    def: { name, inputSchema: { type: "object" } },
    handler: () => name,
    task: "forbidden",
    enabled: true,
  };
}

function prompt(name: string): PromptEntry {
  return { def: { name }, handler: () => name, enabled: true };
}

/** A registry with page size `size` that records the kinds it reports changed. */
function newRegistry(size: number) {
  const changes: Kind[] = [];
  return { reg: new Registry(size, (k) => changes.push(k)), changes };
}

/** Follows nextCursor from the first page to the last, collecting the pages. */
function walk(reg: Registry, kind: string, field: string, items: () => unknown[]): unknown[][] {
  const pages: unknown[][] = [];
  let cursor: unknown;
  do {
    const page = JSON.parse(reg.page(kind, cursor, items));
    pages.push(page[field]);
    cursor = page.nextCursor;
    assert.ok(pages.length < 100, "paging does not end");
  } while (cursor !== undefined);
  return pages;
}

describe("Registry.page", () => {
  test("pages of pageSize items; the pages together are the whole list, in order", () => {
    const { reg } = newRegistry(3);
    for (let i = 0; i < 8; i++) reg.register("tools", reg.tools, `t${i}`, tool(`t${i}`), `tool t${i}`);
    const pages = walk(reg, "tools", "tools", () => reg.listTools());
    assert.deepEqual(pages.map((p) => p.length), [3, 3, 2]);
    assert.deepEqual(pages.flat().map((t) => (t as { name: string }).name), [
      "t0",
      "t1",
      "t2",
      "t3",
      "t4",
      "t5",
      "t6",
      "t7",
    ]);
  });

  test("a list that fits one page has no nextCursor; a list of exactly pageSize neither", () => {
    const { reg } = newRegistry(2);
    assert.deepEqual(JSON.parse(reg.page("prompts", undefined, () => [])), { prompts: [] });
    assert.deepEqual(JSON.parse(reg.page("tools", undefined, () => ["x", "y"])), { tools: ["x", "y"] });
  });

  test("resource templates are listed under resourceTemplates", () => {
    const { reg } = newRegistry(1);
    const page = JSON.parse(reg.page("resources/templates", undefined, () => [{ uriTemplate: "a/{x}" }, {}]));
    assert.deepEqual(page.resourceTemplates, [{ uriTemplate: "a/{x}" }]);
    assert.equal(decodeCursor("resources/templates", page.nextCursor), 1);
  });

  test("a bad cursor is refused before the list is built", () => {
    const { reg } = newRegistry(2);
    let built = 0;
    refused(() => reg.page("tools", encodeCursor("prompts", 2), () => (built++, [])), "another list's cursor");
    refused(() => reg.page("tools", 2, () => (built++, [])), "a number");
    assert.equal(built, 0);
  });

  test("a page is built and serialized once, then served from the cache", () => {
    const { reg } = newRegistry(2);
    let built = 0;
    const items = ["a", "b", "c"];
    const list = () => (built++, items);
    const first = reg.page("tools", undefined, list);
    items[0] = "changed behind the registry's back";
    assert.equal(reg.page("tools", undefined, list), first, "the same text, not rebuilt");
    assert.equal(built, 1);
    // Each offset is a page of its own.
    const next = JSON.parse(first).nextCursor;
    assert.deepEqual(JSON.parse(reg.page("tools", next, list)).tools, ["c"]);
    assert.equal(built, 2);
  });

  test("a change to a kind drops that kind's cached pages and reports the kind, leaving other kinds' pages", () => {
    const { reg, changes } = newRegistry(10);
    reg.register("tools", reg.tools, "a", tool("a"), "tool a");
    reg.register("prompts", reg.prompts, "p", prompt("p"), "prompt p");
    assert.deepEqual(changes, ["tools", "prompts"]);
    let promptBuilds = 0;
    const prompts = () => (promptBuilds++, reg.listPrompts());
    const names = () =>
      JSON.parse(reg.page("tools", undefined, () => reg.listTools())).tools.map((t: { name: string }) => t.name);
    assert.deepEqual(names(), ["a"]);
    reg.page("prompts", undefined, prompts);

    const b = reg.register("tools", reg.tools, "b", tool("b"), "tool b");
    assert.deepEqual(names(), ["a", "b"], "registering drops the cached page");
    b.disable();
    assert.deepEqual(names(), ["a"], "disabling drops it");
    b.enable();
    assert.deepEqual(names(), ["a", "b"], "enabling drops it");
    b.remove();
    assert.deepEqual(names(), ["a"], "removing drops it");
    assert.deepEqual(changes, ["tools", "prompts", "tools", "tools", "tools", "tools"]);

    reg.page("prompts", undefined, prompts);
    assert.equal(promptBuilds, 1, "the prompts page survived every tools change");
  });

  test("a resources change also drops the cached pages of resource templates", () => {
    const { reg } = newRegistry(10);
    let builds = 0;
    reg.page("resources/templates", undefined, () => (builds++, []));
    reg.register("resources", reg.resources, "file:///a", {
      def: { uri: "file:///a", name: "a" },
      read: () => "a",
      enabled: true,
    }, "resource a");
    reg.page("resources/templates", undefined, () => (builds++, []));
    assert.equal(builds, 2);
  });

  test("a handle changes only its own entry: enable/disable twice reports once; after removal it does nothing", () => {
    const { reg, changes } = newRegistry(10);
    const h = reg.register("tools", reg.tools, "a", tool("a"), "tool a");
    h.disable();
    h.disable();
    assert.equal(h.enabled, false);
    h.enable();
    h.enable();
    assert.equal(h.enabled, true);
    assert.deepEqual(changes, ["tools", "tools", "tools"]);
    h.remove();
    const again = reg.register("tools", reg.tools, "a", tool("a"), "tool a");
    changes.length = 0;
    h.disable();
    h.remove();
    assert.deepEqual(changes, [], "the old handle does not touch the new entry");
    assert.equal(again.enabled, true);
    assert.equal(reg.tool("a")?.def.name, "a");
    assert.throws(() => reg.register("tools", reg.tools, "a", tool("a"), "tool a"), /tool a is already registered/);
  });
});
