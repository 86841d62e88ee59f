/**
 * Takes docs/page.png, the README's picture of the page: the example server
 * in headless Chromium, 1280 pixels wide, light mode (`--dark` for dark),
 * after a few calls.
 *
 *   deno run -A scripts/page_screenshot.ts [--dark] [--width=1280] [output.png]
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { createServer } from "../examples/server.ts";
import { serve } from "../mod.ts";
import { Browser } from "../tests/testdata/chromium.ts";

const dark = Deno.args.includes("--dark");
const width = Number(Deno.args.find((a) => a.startsWith("--width="))?.slice(8) ?? 1280);
const out = Deno.args.find((a) => !a.startsWith("--")) ?? "docs/page.png";
const handle = serve(createServer(), { port: 0 });
const browser = await Browser.launch();
try {
  const tab = await browser.open(handle.httpUrl.href, { width, height: 820, dark });
  await tab.waitFor(`document.body.dataset.ready`, "the page connects");
  const call = async (tool: string, args: Record<string, number>) => {
    await tab.eval(`document.querySelector('[data-key="tool:${tool}"]').click()`);
    for (const [k, v] of Object.entries(args)) {
      await tab.eval(`document.querySelector('#detail form [name="${k}"]').value = "${v}"`);
    }
    await tab.eval(`document.querySelector('#detail form button[type=submit]').click()`);
  };
  await call("greet_user", {});
  await tab.waitFor(`document.querySelector('[data-elicitation]')`, "the elicitation form");
  await call("slow", { ms: 2000, steps: 4 });
  await tab.waitFor(`document.querySelector('#detail .card[data-state=done]')`, "slow's result");
  await call("slow", { ms: 30000, steps: 10 });
  await tab.waitFor(`Number(document.querySelector('#detail .card')?.dataset.progress) >= 3`, "progress");
  writeFileSync(out, await tab.screenshot());
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await handle.close({ timeout: 100 });
}
