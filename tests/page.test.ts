// The page a browser gets at the endpoint. In real headless Chromium, against the example server started as a person
// starts it: the lists, tools with their forms, progress and cancellation, the server's requests answered in the
// page (elicitation, sampling, roots), prompts, templates with completion, and a subscription's updates. Without a
// browser: when the page is served and when not, its headers and checks, and that _page/page.ts is built from the
// current sources.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, posix } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { mcpHandler, McpServer, type ServeHandle } from "../mod.ts";
import { connect } from "../client.ts";
import { z } from "zod";
import { createServer } from "../examples/server.ts";
import { builtDigest, OUTPUT, pageSources, sourcesDigest } from "../scripts/build_page.ts";
import {
  closedPort,
  deferred,
  launch,
  type Launched,
  listening,
  runtimeName,
  start,
  within,
} from "./testdata/helpers.ts";
import { Browser, browserSkip, type Tab } from "./testdata/chromium.ts";

// A 1×1 PNG, and a WAV file of one silent sample.
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
const WAV = btoa(String.fromCharCode(
  ...[0x52, 0x49, 0x46, 0x46, 38, 0, 0, 0, 0x57, 0x41, 0x56, 0x45, 0x66, 0x6d, 0x74, 0x20, 16, 0, 0, 0, 1, 0, 1, 0],
  ...[0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0, 0x64, 0x61, 0x74, 0x61, 2, 0, 0, 0, 0, 0],
));
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"; // what Chromium sends
if (browserSkip) console.log(`page.test.ts (browser part) ${browserSkip}`);

// Page-side actions, as a person does them: click a tab and an item, fill a form, press its button.
const js = (v: unknown) => JSON.stringify(v);
const pick = (tab: Tab, kind: string, key: string) =>
  tab.eval(`(() => {
    document.querySelector('.tabs [data-tab=${kind}]').click();
    document.querySelector('#list [data-key=' + ${js(js(key))} + ']').click();
  })()`);
const fillAndSubmit = (tab: Tab, form: string, values: Record<string, string>) =>
  tab.eval(`(() => {
    const form = ${form};
    for (const [k, v] of Object.entries(${js(values)})) {
      const el = form.elements.namedItem(k);
      el.value = v;
      el.dispatchEvent(new Event("input", { bubbles: true }));
      el.dispatchEvent(new Event("change", { bubbles: true }));
    }
    form.querySelector('button[type=submit]').click();
  })()`);
/** Bun gives a test 5 s unless told otherwise; a browser on a busy machine may need more. */
const T = { timeout: 30_000 };
const detailForm = `document.querySelector('#detail form')`;
/** The newest card of the shown item once it has ended: its state and text. */
const newestCard = (tab: Tab, count: number, what: string) =>
  tab.waitFor<{ state: string; text: string }>(
    `(() => {
      const cards = document.querySelectorAll('#detail .card');
      const c = cards[0];
      return cards.length === ${count} && c.dataset.state !== "running" &&
        { state: c.dataset.state, text: c.querySelector('.card-body').innerText.trim() };
    })()`,
    what,
  );

async function callTool(tab: Tab, name: string, args: Record<string, string>): Promise<number> {
  await pick(tab, "tools", `tool:${name}`);
  const before = await tab.eval<number>(`document.querySelectorAll('#detail .card').length`);
  await fillAndSubmit(tab, detailForm, args);
  return before + 1;
}

describe(`the page in headless Chromium (${runtimeName})`, { skip: browserSkip }, () => {
  let browser: Browser;
  let example: Launched;
  let url: string;
  let tab: Tab;

  after(async () => {
    await browser?.close();
    await example?.kill();
  });

  // Set up in a test, not a hook: Bun gives hooks 5 s whatever they ask, and this may take longer on a busy machine.
  test("the example server, started as a person starts it, prints a URL where the page connects", {
    timeout: 120_000,
  }, async () => {
    const port = await closedPort();
    const args = runtimeName === "deno" ? ["run", "-A", "examples/server.ts"] : ["run", "examples/server.ts"];
    example = await launch(process.execPath, args, { cwd: ROOT, env: { PORT: String(port) }, timeout: 600_000 });
    await listening(port, example);
    browser = await Browser.launch();
    const printed = /(http:\/\/\S+) \(Streamable HTTP\)/.exec(example.stdout)?.[1];
    assert.ok(printed, `the example prints its URL:\n${example.stdout}`);
    url = printed;
    tab = await browser.open(url);
    await tab.waitFor(`document.body.dataset.ready`, "the page connects");
  });

  test("shows the server, its protocol, and lists its tools, resources and prompts", T, async () => {
    const shown = await tab.eval<Record<string, string>>(`({
      name: document.getElementById('server-name').textContent,
      version: document.getElementById('server-version').textContent,
      protocol: document.getElementById('protocol').textContent,
      instructions: document.getElementById('instructions').textContent,
      status: document.getElementById('status').dataset.state,
    })`);
    assert.equal(shown.name, "Example MCP server");
    assert.match(shown.version, /example · v1\.0\.0/);
    assert.equal(shown.protocol, "2025-11-25");
    assert.match(shown.instructions, /slow tool for testing cancellation/);
    assert.equal(shown.status, "open");
    const names = async (kind: string) =>
      await tab.eval<string[]>(`(() => {
        document.querySelector('.tabs [data-tab=${kind}]').click();
        return [...document.querySelectorAll('#list [data-name]')].map((b) => b.dataset.name);
      })()`);
    const listed = await connect(url.replace(/^http/, "ws"));
    try {
      assert.deepEqual(await names("tools"), (await listed.listAllTools()).map((t) => t.name));
      assert.deepEqual(await names("resources"), [
        ...(await listed.listAllResources()).map((r) => r.uri),
        ...(await listed.listAllResourceTemplates()).map((t) => t.uriTemplate),
      ]);
      assert.deepEqual(await names("prompts"), (await listed.listAllPrompts()).map((p) => p.name));
    } finally {
      await listed.close();
    }
    assert.ok((await names("tools")).includes("greet_user"));
  });

  test("add with 2 and 3 shows 5", T, async () => {
    const n = await callTool(tab, "add", { a: "2", b: "3" });
    assert.deepEqual(await newestCard(tab, n, "add's result"), { state: "done", text: "TEXT\n5" });
  });

  test("divide shows structuredContent, and a thrown error as isError", T, async () => {
    let n = await callTool(tab, "divide", { a: "17", b: "5" });
    const ok = await newestCard(tab, n, "divide's result");
    assert.equal(ok.state, "done");
    assert.match(ok.text, /STRUCTUREDCONTENT\n\{\n {2}"quotient": 3,\n {2}"remainder": 2\n\}/i);
    n = await callTool(tab, "divide", { a: "1", b: "0" });
    const failed = await newestCard(tab, n, "divide by zero");
    assert.equal(failed.state, "error");
    assert.match(failed.text, /isError: true[\s\S]*Cannot divide by zero/);
  });

  test("slow shows its progress to the end; another slow call is cancelled", T, async () => {
    let n = await callTool(tab, "slow", { ms: "200", steps: "4" });
    const done = await newestCard(tab, n, "slow's result");
    assert.deepEqual(done, { state: "done", text: "TEXT\nwaited 200 ms" });
    const bar = await tab.eval(`(() => {
      const p = document.querySelector('#detail .card progress');
      return [p.value, p.max];
    })()`);
    assert.deepEqual(bar, [4, 4]);

    n = await callTool(tab, "slow", { ms: "60000", steps: "60" });
    await tab.waitFor(`Number(document.querySelector('#detail .card').dataset.progress) >= 1`, "the first progress");
    await tab.eval(`document.querySelector('#detail .card .card-head button').click()`);
    const cancelled = await newestCard(tab, n, "the cancelled call");
    assert.equal(cancelled.state, "cancelled");
    const log = await tab.eval<string>(`document.getElementById('log').innerText`);
    assert.match(log, /progress\n1\/60 step 1 of 60/);
  });

  test("greet_user's elicitation is answered in the page's form, and the greeting shows", T, async () => {
    const n = await callTool(tab, "greet_user", {});
    await tab.waitFor(`document.querySelector('#requests form[data-elicitation]')`, "the elicitation form");
    const asked = await tab.eval<string>(`document.getElementById('requests').innerText`);
    assert.match(asked, /What is your name\?/);
    assert.equal(await tab.eval(`document.getElementById('pending').textContent`), "1 request waiting for you");
    await fillAndSubmit(tab, `document.querySelector('#requests form[data-elicitation]')`, { name: "Ada" });
    assert.deepEqual(await newestCard(tab, n, "the greeting"), { state: "done", text: "TEXT\nHello, Ada!" });
    assert.equal(await tab.eval(`document.querySelector('#requests form')`), null, "the answered form is gone");
    assert.equal(await tab.eval(`document.getElementById('pending').hidden`), true);
  });

  test("summarize's sampling request is answered with the reply typed in the page", T, async () => {
    const n = await callTool(tab, "summarize", { text: "A long story about a short walk." });
    await tab.waitFor(`document.querySelector('#requests form[data-sampling]')`, "the sampling form");
    const asked = await tab.eval<string>(`document.getElementById('requests').innerText`);
    assert.match(asked, /A long story about a short walk\./);
    await fillAndSubmit(tab, `document.querySelector('#requests form[data-sampling]')`, { reply: "A walk." });
    assert.deepEqual(await newestCard(tab, n, "the summary"), { state: "done", text: "TEXT\nA walk." });
  });

  test("list_roots gets the roots edited in the page", T, async () => {
    await tab.eval(`(() => {
      document.getElementById('add-root').click();
      const [uri, name] = document.querySelectorAll('#roots li:last-child input');
      uri.value = "file:///home/ada/project";
      uri.dispatchEvent(new Event("change"));
      name.value = "project";
      name.dispatchEvent(new Event("change"));
    })()`);
    const n = await callTool(tab, "list_roots", {});
    assert.deepEqual(await newestCard(tab, n, "the roots"), { state: "done", text: "TEXT\nfile:///home/ada/project" });
  });

  test("review_code with its arguments gives the prompt's messages", T, async () => {
    await pick(tab, "prompts", "prompt:review_code");
    await fillAndSubmit(tab, detailForm, { code: "let x = 1;", language: "typescript" });
    const got = await newestCard(tab, 1, "the prompt's messages");
    assert.equal(got.state, "done");
    assert.match(got.text, /^Ask for a code review\n+USER\nTEXT\nPlease review this typescript code:\n+let x = 1;$/);
  });

  test("a template's variable completes while typing, and the expanded URI is read", T, async () => {
    await pick(tab, "resources", "template:users://{name}/profile");
    await tab.eval(`(() => {
      const input = document.querySelector('#detail form input[name=name]');
      input.value = "a";
      input.dispatchEvent(new Event("input"));
    })()`);
    const completions = await tab.waitFor<string[]>(
      `document.querySelector('#detail datalist').options.length &&
        [...document.querySelector('#detail datalist').options].map((o) => o.value)`,
      "the completions",
    );
    assert.deepEqual(completions, ["ada", "alan"]);
    await fillAndSubmit(tab, detailForm, { name: "grace" });
    const read = await newestCard(tab, 1, "the profile");
    assert.equal(read.state, "done");
    assert.match(read.text, /users:\/\/grace\/profile[\s\S]*Profile of grace/);
  });

  test("the page works opened at localhost too", T, async () => {
    const other = await browser.open(url.replace("127.0.0.1", "localhost"));
    try {
      await other.waitFor(`document.body.dataset.ready`, "the page at localhost connects");
    } finally {
      await other.close();
    }
  });

  test("a socket the server refuses after admitting the page: the page says so instead of waiting", T, async () => {
    // An authenticate hook that admits plain requests but not WebSocket upgrades (a browser shows a page no reason).
    const h = start(new McpServer({ name: "half", version: "1" }), {
      authenticate: (req) => req.headers.get("upgrade") ? undefined : "someone",
    });
    const other = await browser.open(h.httpUrl.href);
    try {
      const text = await other.waitFor<string>(
        `!document.getElementById('banner').hidden && document.getElementById('banner').textContent`,
        "the banner",
      );
      assert.match(text, /^The server did not accept the page's WebSocket connection to ws:\/\/127\.0\.0\.1:\d+\/mcp/);
      assert.equal(await other.eval(`document.getElementById('status').dataset.state`), "closed");
    } finally {
      await other.close();
      await h.close({ timeout: 100 });
    }
  });

  describe("against a server in this process", () => {
    let server: McpServer;
    let h: ServeHandle;
    let t: Tab;
    const aborted = deferred<string>();
    after(async () => {
      await t?.close();
      await h?.close({ timeout: 100 });
    });

    test("the page connects with a token in its URL, which its socket carries to authenticate", {
      timeout: 60_000,
    }, async () => {
      server = createServer();
      server.tool("wait", { description: "Wait until cancelled" }, (_args, ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener("abort", () => {
            aborted.resolve(String(ctx.signal.reason?.message ?? ctx.signal.reason));
            resolve("stopped");
          });
        }));
      server.tool("show", { description: "One block of each kind" }, () => ({
        content: [
          { type: "text", text: "plain text" },
          { type: "image", data: PNG, mimeType: "image/png" },
          { type: "audio", data: WAV, mimeType: "audio/wav" },
          { type: "resource_link", uri: "config://app", name: "the configuration" },
          { type: "resource", resource: { uri: "note://1", mimeType: "text/plain", text: "an embedded note" } },
        ],
      }));
      server.tool("shape", {
        description: "Echo its arguments",
        input: z.object({
          kind: z.enum(["circle", "square"]),
          filled: z.boolean(),
          size: z.number().int(),
          tags: z.array(z.string()),
          at: z.object({ x: z.number(), y: z.number() }),
          label: z.string().optional(),
          note: z.string().nullable().optional(),
        }),
      }, (args) => JSON.stringify(args));
      server.tool("edge", {
        description: "Echo its arguments: a schema's corners",
        input: z.object({
          mode: z.union([z.literal("fast"), z.literal("safe")]).nullable(),
          version: z.literal(2).meta({ title: "API version" }),
          when: z.string().datetime().default("2026-01-02T03:04:05.678Z"),
          count: z.number().optional(),
        }),
      }, (args) => JSON.stringify(args));
      server.tool("visit", { description: "Ask the person to open a page" }, async (_args, ctx) => {
        const r = await ctx.elicitUrl("Sign in to Example", "https://example.com/connect");
        return `visit: ${r.action}`;
      });
      server.tool("big", { description: "A long text" }, () => "0123456789".repeat(30_000));
      server.resource("bin://four", { mimeType: "application/octet-stream" }, () => new Uint8Array([1, 2, 3, 4]));
      h = start(server, {
        authenticate: (req) => new URL(req.url).searchParams.get("token") === "s3cret" ? { user: "page" } : undefined,
      });
      t = await browser.open(`${h.httpUrl.href}?token=s3cret`);
      await t.waitFor(`document.body.dataset.ready`, "the page connects with the token in its URL");
    });

    test("subscribing to a resource shows each update as it arrives", T, async () => {
      await pick(t, "resources", "resource:config://app");
      await t.eval(
        `[...document.querySelectorAll('#detail button')].find((b) => b.textContent === "Subscribe").click()`,
      );
      await t.waitFor(
        `[...document.querySelectorAll('#detail button')].some((b) => b.textContent === "Unsubscribe")`,
        "the subscription",
      );
      for (const count of [1, 2]) {
        server.resourceUpdated("config://app");
        await t.waitFor(`document.querySelector('#detail .updates').dataset.count === "${count}"`, `update ${count}`);
        const read = await newestCard(t, count, `the read after update ${count}`);
        assert.match(read.text, /config:\/\/app[\s\S]*"theme": "dark"/);
      }
    });

    test("Cancel reaches the tool's ctx.signal on the server", T, async () => {
      const n = await callTool(t, "wait", {});
      await t.eval(`document.querySelector('#detail .card .card-head button').click()`);
      assert.equal((await newestCard(t, n, "the cancelled call")).state, "cancelled");
      // The client cancels with its AbortSignal's reason; the server's ctx.signal is aborted with it.
      assert.match(await within(aborted.promise, 10_000, "the server's ctx.signal aborted"), /abort/i);
    });

    test(
      "every kind of content is shown: text, image, audio, a resource link to read, an embedded resource",
      T,
      async () => {
        const n = await callTool(t, "show", {});
        assert.equal((await newestCard(t, n, "show's result")).state, "done");
        const shown = await t.waitFor<Record<string, unknown>>(
          `(() => {
          const body = document.querySelector('#detail .card .card-body');
          const img = body.querySelector('img');
          return img.complete && {
            kinds: [...body.querySelectorAll('.block > .kind')].map((k) => k.textContent),
            text: body.querySelector('pre.text').textContent,
            image: img.naturalWidth,
            audio: body.querySelector('audio').src.split(',')[0],
            embedded: body.innerText.includes("an embedded note"),
          };
        })()`,
          "the image decoded",
        );
        assert.deepEqual(shown, {
          kinds: ["text", "image · image/png", "audio · audio/wav", "resource link", "embedded resource"],
          text: "plain text",
          image: 1, // decoded: the page's CSP admits data: images
          audio: "data:audio/wav;base64",
          embedded: true,
        });
        await t.eval(
          `[...document.querySelectorAll('#detail .card button')].find((b) => b.textContent === "Read").click()`,
        );
        await t.waitFor(
          `document.querySelector('#detail .card').innerText.includes('"theme": "dark"')`,
          "the linked read",
        );
      },
    );

    test("a form from an inputSchema: enum, boolean, integer, and arrays and objects as JSON", T, async () => {
      await pick(t, "tools", "tool:shape");
      const kinds = await t.eval(`(() => {
        const f = document.querySelector('#detail form').elements;
        return ["kind", "filled", "size", "tags", "at", "label", "note"].map((k) => f.namedItem(k).type);
      })()`);
      assert.deepEqual(kinds, ["select-one", "checkbox", "number", "textarea", "textarea", "text", "text"]);
      const n = await t.eval<number>(`document.querySelectorAll('#detail .card').length`) + 1;
      await t.eval(`(() => {
        const form = document.querySelector('#detail form');
        const f = form.elements;
        f.namedItem("kind").selectedIndex = [...f.namedItem("kind").options].findIndex((o) => o.text === "square");
        f.namedItem("filled").checked = true;
        f.namedItem("size").value = "3";
        f.namedItem("tags").value = '["a", "b"]';
        f.namedItem("at").value = '{ "x": 1, "y": 2 }';
        form.querySelector('button[type=submit]').click();
      })()`);
      const got = await newestCard(t, n, "shape's result");
      assert.equal(got.state, "done");
      assert.deepEqual(JSON.parse(got.text.replace(/^TEXT\n/, "")), {
        kind: "square",
        filled: true,
        size: 3,
        tags: ["a", "b"],
        at: { x: 1, y: 2 },
      });
      // Bad JSON is caught in the page, naming the field, and nothing is sent.
      await t.eval(`(() => {
        const form = document.querySelector('#detail form');
        form.elements.namedItem("tags").value = "[oops";
        form.querySelector('button[type=submit]').click();
      })()`);
      assert.match(
        await t.eval<string>(`document.querySelector('#detail .form-error').textContent`),
        /^tags: is not valid JSON/,
      );
      assert.equal(await t.eval(`document.querySelectorAll('#detail .card').length`), n);
    });

    test(
      "a schema's corners: a nullable union of literals, a const, a date-time default, a bad number",
      T,
      async () => {
        await pick(t, "tools", "tool:edge");
        const fields = await t.eval(`(() => {
        const f = document.querySelector('#detail form').elements;
        return ["mode", "version", "when", "count"].map((k) => [f.namedItem(k).type, f.namedItem(k).value !== ""]);
      })()`);
        // when: the default shown in the browser's date-time field (it takes no "Z"); version: its one value chosen.
        assert.deepEqual(fields, [["select-one", false], ["select-one", true], ["datetime-local", true], [
          "number",
          false,
        ]]);
        assert.deepEqual(
          await t.eval(`(() => {
            const version = document.querySelector('#detail form [name=version]');
            return [version.labels[0].firstChild.textContent, [...version.options].map((o) => o.text)];
          })()`),
          ["API version", ["2"]],
          "the title labels the field, the option shows the value",
        );
        // "12e" typed into a number field: the browser gives "" for it, which must not pass as an absent number.
        await t.eval(`document.querySelector('#detail form [name=count]').focus()`);
        await t.send("Input.insertText", { text: "12e" });
        await t.eval(`(() => {
        const f = document.querySelector('#detail form').elements;
        f.namedItem("mode").selectedIndex = [...f.namedItem("mode").options].findIndex((o) => o.text === "safe");
        document.querySelector('#detail form button[type=submit]').click();
      })()`);
        assert.equal(
          await t.eval(`document.querySelector('#detail .form-error').textContent`),
          "count: is not a number",
        );
        assert.equal(await t.eval(`document.querySelectorAll('#detail .card').length`), 0, "nothing sent");
        await t.eval(`document.querySelector('#detail form [name=count]').value = "7"`);
        await t.eval(`document.querySelector('#detail form button[type=submit]').click()`);
        const got = await newestCard(t, 1, "edge's result");
        assert.equal(got.state, "done");
        assert.deepEqual(JSON.parse(got.text.replace(/^TEXT\n/, "")), {
          mode: "safe",
          version: 2,
          when: "2026-01-02T03:04:05.678Z",
          count: 7,
        });
      },
    );

    test("a URL elicitation is a link to open, and the answer reaches ctx.elicitUrl", T, async () => {
      const n = await callTool(t, "visit", {});
      const link = await t.waitFor<string>(
        `document.querySelector('#requests .request a')?.href`,
        "the link to open",
      );
      assert.equal(link, "https://example.com/connect");
      assert.match(await t.eval<string>(`document.getElementById('requests').innerText`), /Sign in to Example/);
      await t.eval(
        `[...document.querySelectorAll('#requests button')].find((b) => b.textContent === "Opened").click()`,
      );
      assert.deepEqual(await newestCard(t, n, "visit's result"), { state: "done", text: "TEXT\nvisit: accept" });
    });

    test("a long text shows its start, and all of it on request; a blob's size is its bytes", T, async () => {
      const n = await callTool(t, "big", {});
      assert.equal((await newestCard(t, n, "big's result")).state, "done");
      const shown = () => t.eval<number>(`document.querySelector('#detail .card pre.text').textContent.length`);
      assert.equal(await shown(), 100_000);
      await t.eval(
        `[...document.querySelectorAll('#detail .card button')].find((b) => b.textContent === "Show all 300,000 characters").click()`,
      );
      assert.equal(await shown(), 300_000);
      await pick(t, "resources", "resource:bin://four");
      await t.eval(`[...document.querySelectorAll('#detail button')].find((b) => b.textContent === "Read").click()`);
      const read = await newestCard(t, 1, "the blob");
      assert.match(read.text, /Download \(4 bytes\)/);
    });

    test("a list change keeps the focus in the field being typed in", T, async () => {
      await pick(t, "tools", "tool:shape");
      await t.eval(`document.querySelector('#detail form [name=label]').focus()`);
      const added = server.tool("focus_probe", { description: "Registered while a field has the focus" }, () => "hi");
      await t.waitFor(`document.querySelector('#list [data-key="tool:focus_probe"]')`, "the new tool listed");
      added.remove();
      await t.waitFor(`!document.querySelector('#list [data-key="tool:focus_probe"]')`, "the tool gone");
      assert.equal(await t.eval(`document.activeElement.name`), "label");
    });

    test("a subscription goes on showing updates after the resource's definition changes", T, async () => {
      let first = server.resource("live://x", { title: "first" }, () => "v");
      await t.eval(`document.querySelector('.tabs [data-tab=resources]').click()`);
      await t.waitFor(`document.querySelector('#list [data-key="resource:live://x"]')`, "the resource listed");
      await pick(t, "resources", "resource:live://x");
      await t.eval(
        `[...document.querySelectorAll('#detail button')].find((b) => b.textContent === "Subscribe").click()`,
      );
      await t.waitFor(
        `[...document.querySelectorAll('#detail button')].some((b) => b.textContent === "Unsubscribe")`,
        "the subscription",
      );
      first.remove();
      first = server.resource("live://x", { title: "second" }, () => "v2");
      await t.waitFor(`document.querySelector('#detail h3')?.textContent === "second"`, "the new definition shown");
      server.resourceUpdated("live://x");
      await t.waitFor(`document.querySelector('#detail .updates').dataset.count === "1"`, "the update shown");
      assert.match((await newestCard(t, 1, "the read after the update")).text, /live:\/\/x[\s\S]*v2/);
      first.remove();
    });

    test("a list change re-lists by itself", T, async () => {
      await t.eval(`document.querySelector('.tabs [data-tab=tools]').click()`);
      const added = server.tool("added_later", { description: "Registered while the page was open" }, () => "hi");
      await t.waitFor(`document.querySelector('#list [data-key="tool:added_later"]')`, "the new tool listed");
      added.remove();
      await t.waitFor(`!document.querySelector('#list [data-key="tool:added_later"]')`, "the removed tool gone");
      assert.match(await t.eval<string>(`document.getElementById('log').innerText`), /tools list changed/);
    });

    test("log messages arrive at the level chosen in the page", T, async () => {
      server.log("debug", "quiet detail");
      server.log("warning", "first warning");
      await t.waitFor(`document.getElementById('log').innerText.includes("first warning")`, "the warning");
      await t.eval(`(() => {
        const s = document.getElementById('log-level');
        s.value = "debug";
        s.dispatchEvent(new Event("change"));
      })()`);
      await t.waitFor(`document.getElementById('log').innerText.includes("log level\\ndebug")`, "the level set");
      server.log("debug", "loud detail");
      await t.waitFor(`document.getElementById('log').innerText.includes("loud detail")`, "the debug message");
      assert.doesNotMatch(await t.eval<string>(`document.getElementById('log').innerText`), /quiet detail/);
    });

    test("without the token authenticate refuses, and the page says why plainly", T, async () => {
      const t = await browser.open(h.httpUrl.href);
      try {
        const text = await t.eval<string>(`document.body.innerText`);
        assert.match(text, /Authentication required/);
        assert.match(text, /A browser cannot set headers such as Authorization on a WebSocket/);
      } finally {
        await t.close();
      }
    });
  });
});

describe("when the page is served", () => {
  const browserGet = (u: URL | string, headers: Record<string, string> = {}) =>
    fetch(u, { headers: { accept: HTML, ...headers } });

  test("serve() on loopback: a browser's GET gets the page, self-contained, with a strict CSP", async () => {
    const h = start(new McpServer({ name: "shop", version: "2.1.0" }));
    try {
      const res = await browserGet(h.httpUrl);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
      const csp = res.headers.get("content-security-policy") ?? "";
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
      assert.match(csp, /connect-src 'self'/);
      assert.equal(res.headers.get("x-frame-options"), "DENY");
      const html = await res.text();
      assert.match(html, /^<!doctype html>/);
      // Nothing loaded from anywhere: no src, and no href but to a part of the page, outside the inline script.
      const markup = html.replace(/<script type="module">[\s\S]*?<\/script>/, "");
      assert.doesNotMatch(markup, /\ssrc=|\shref="(?!#)|@import|url\(/);
    } finally {
      await h.close({ timeout: 100 });
    }
  });

  test("other GETs keep their answers: plain text for curl, Streamable HTTP for MCP clients", async () => {
    const h = start(new McpServer({ name: "shop", version: "2.1.0" }));
    try {
      for (const accept of [undefined, "*/*", "text/plain", "text/html;q=0, text/plain", "text/htmlx"]) {
        const res = await fetch(h.httpUrl, { headers: accept ? { accept } : {} });
        assert.equal(res.status, 200);
        assert.match(await res.text(), /MCP \(Model Context Protocol\) server endpoint: shop 2\.1\.0/);
      }
      const sse = await fetch(h.httpUrl, { headers: { accept: "text/event-stream" } });
      assert.equal(sse.status, 400, "a stream needs a session");
      assert.match(await sse.text(), /Mcp-Session-Id/i);
      const withSession = await browserGet(h.httpUrl, { "mcp-session-id": "nope" });
      assert.equal(withSession.status, 404, "a session id makes it a stream request");
      await withSession.body?.cancel();
      const post = await fetch(h.httpUrl, { method: "POST", headers: { accept: HTML }, body: "{}" });
      assert.notEqual(post.headers.get("content-type"), "text/html; charset=utf-8");
      await post.body?.cancel();
      const other = await browserGet(new URL("/", h.httpUrl));
      assert.equal(other.status, 404, "only the endpoint's path");
      await other.body?.cancel();
    } finally {
      await h.close({ timeout: 100 });
    }
  });

  test("page: false, and a non-loopback hostname by default: a browser gets the plain answer", async () => {
    const off = start(new McpServer({ name: "shop", version: "2.1.0" }), { page: false });
    const remote = start(new McpServer({ name: "shop", version: "2.1.0" }), { hostname: "0.0.0.0" });
    const remoteOn = start(new McpServer({ name: "shop", version: "2.1.0" }), { hostname: "0.0.0.0", page: true });
    try {
      for (const port of [off.port, remote.port]) {
        const res = await browserGet(`http://127.0.0.1:${port}/mcp`);
        assert.equal(res.status, 200);
        assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
        assert.match(await res.text(), /server endpoint: shop 2\.1\.0/);
      }
      const on = await browserGet(`http://127.0.0.1:${remoteOn.port}/mcp`);
      assert.equal(on.headers.get("content-type"), "text/html; charset=utf-8", "page: true turns it on");
      await on.body?.cancel();
    } finally {
      await Promise.all([
        off.close({ timeout: 100 }),
        remote.close({ timeout: 100 }),
        remoteOn.close({ timeout: 100 }),
      ]);
    }
  });

  test("mcpHandler(): off unless asked; serve({ http: false }) serves it beside WebSocket alone", async () => {
    const server = new McpServer({ name: "shop", version: "2.1.0" });
    const plain = await mcpHandler(server).fetch(new Request("http://127.0.0.1:9/mcp", { headers: { accept: HTML } }));
    assert.match(plain.headers.get("content-type") ?? "", /^text\/plain/);
    await plain.body?.cancel();
    const asked = await mcpHandler(server, { page: true }).fetch(
      new Request("http://127.0.0.1:9/mcp", { headers: { accept: HTML } }),
    );
    assert.equal(asked.headers.get("content-type"), "text/html; charset=utf-8");
    await asked.body?.cancel();
    const wsOnly = start(server, { http: false });
    try {
      const page = await browserGet(wsOnly.httpUrl);
      assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
      await page.body?.cancel();
      const curl = await fetch(wsOnly.httpUrl);
      assert.equal(curl.status, 426, "other requests still get WebSocket's answer");
      await curl.body?.cancel();
    } finally {
      await wsOnly.close({ timeout: 100 });
    }
  });

  test("the page passes the Origin check and authenticate like any request, and says why when refused", async () => {
    const h = start(new McpServer({ name: "shop", version: "2.1.0" }), {
      authenticate: (req) => req.headers.get("authorization") === "Bearer t" ? "alice" : undefined,
    });
    const listed = start(new McpServer({ name: "shop", version: "2.1.0" }), {
      allowedOrigins: ["https://app.example"],
    });
    try {
      const refused = await browserGet(h.httpUrl);
      assert.equal(refused.status, 401);
      assert.equal(refused.headers.get("www-authenticate"), 'Bearer realm="mcp"');
      assert.equal(refused.headers.get("content-type"), "text/html; charset=utf-8");
      assert.match(await refused.text(), /cannot set headers such as Authorization on a WebSocket/);
      const admitted = await browserGet(h.httpUrl, { authorization: "Bearer t" });
      assert.equal(admitted.status, 200);
      assert.match(await admitted.text(), /<script type="module">/);
      const foreign = await browserGet(h.httpUrl, { origin: "https://evil.example", authorization: "Bearer t" });
      assert.equal(foreign.status, 403);
      await foreign.body?.cancel();
      // The page's socket would come from the server's own origin, which this allowedOrigins leaves out.
      const own = await browserGet(listed.httpUrl);
      assert.equal(own.status, 403);
      const text = await own.text();
      assert.ok(text.includes(`origin ${new URL(listed.httpUrl).origin}`), text);
      assert.match(text, /allowedOrigins/);
    } finally {
      await Promise.all([h.close({ timeout: 100 }), listed.close({ timeout: 100 })]);
    }
  });
});

describe("the page's code", () => {
  test(`${OUTPUT} is built from the current sources (else run: deno task build-page)`, () => {
    assert.equal(
      builtDigest(),
      sourcesDigest(),
      `${OUTPUT} is stale: one of ${pageSources().join(", ")} changed since it was built; run deno task build-page`,
    );
  });

  test("nothing the core imports statically reaches it: it loads only when a page is asked for", () => {
    const reached = new Set<string>();
    const visit = (file: string) => {
      if (reached.has(file)) return;
      reached.add(file);
      const text = readFileSync(join(ROOT, file), "utf8");
      for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s*"(\.{1,2}\/[^"]+)"/gm)) {
        visit(posix.normalize(posix.join(posix.dirname(file), m[1])));
      }
    };
    for (const entry of ["mod.ts", "client.ts"]) visit(entry);
    assert.ok(reached.has("_page/route.ts"), "the route is part of the core");
    assert.ok(!reached.has(OUTPUT), `${OUTPUT} is imported statically`);
    assert.match(readFileSync(join(ROOT, "_page/route.ts"), "utf8"), /await import\("\.\/page\.ts"\)/);
  });
});
