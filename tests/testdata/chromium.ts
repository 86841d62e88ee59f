// Headless Chromium driven over the DevTools protocol, for tests that use a page as a person would: open it, fill
// its forms, press its buttons, and wait for what it shows. Needs /usr/bin/chromium (Debian's `chromium`).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CHROMIUM, chromiumSkip, HEADLESS_FLAGS, launch, type Launched } from "./helpers.ts";

// In CI (CI=true, or REQUIRE_BROWSER=1) a missing Chromium fails the browser tests instead of skipping them.
export const browserSkip: string | false = chromiumSkip;

type Json = Record<string, unknown>;

/** One Chromium process and its DevTools connection. */
export class Browser {
  #child: Launched;
  #ws: WebSocket;
  #dir: string;
  #next = 0;
  #pending = new Map<number, { resolve: (v: Json) => void; reject: (e: Error) => void }>();
  #events = new Set<(method: string, params: Json, session?: string) => void>();

  private constructor(child: Launched, ws: WebSocket, dir: string) {
    this.#child = child;
    this.#ws = ws;
    this.#dir = dir;
    ws.onmessage = (ev) => {
      const msg = JSON.parse(String(ev.data));
      if (msg.id !== undefined) {
        const p = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`${msg.error.message} ${msg.error.data ?? ""}`));
        else p?.resolve(msg.result);
      } else for (const l of this.#events) l(msg.method, msg.params, msg.sessionId);
    };
    ws.onclose = () => {
      for (const p of this.#pending.values()) p.reject(new Error("the DevTools connection closed"));
      this.#pending.clear();
    };
  }

  /** Starts headless Chromium with a throwaway profile. */
  static async launch(): Promise<Browser> {
    const dir = mkdtempSync(join(tmpdir(), "mcp-chromium-"));
    const child = await launch(CHROMIUM, [
      ...HEADLESS_FLAGS,
      "--disable-background-timer-throttling",
      "--disable-renderer-backgrounding",
      "--remote-debugging-port=0",
      `--user-data-dir=${dir}`,
      "about:blank",
    ], { timeout: 600_000 });
    const deadline = Date.now() + 30_000;
    let url: string | undefined;
    while (!(url = /DevTools listening on (ws:\/\/\S+)/.exec(child.stderr)?.[1])) {
      if (Date.now() > deadline) {
        await child.kill();
        throw new Error(`Chromium did not start its DevTools server:\n${child.stderr.slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error(`could not connect to Chromium's DevTools at ${url}`));
    });
    return new Browser(child, ws, dir);
  }

  /** Sends a DevTools command, to the browser or to one page's session. */
  send(method: string, params: Json = {}, sessionId?: string): Promise<Json> {
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    });
  }

  /** Listens to DevTools events; returns a function that stops. */
  on(listener: (method: string, params: Json, session?: string) => void): () => void {
    this.#events.add(listener);
    return () => this.#events.delete(listener);
  }

  /** Opens `url` in a new tab, `width` × `height` pixels, and waits for its load event. */
  async open(url: string, { width = 1280, height = 900, dark = false } = {}): Promise<Tab> {
    const { targetId } = await this.send("Target.createTarget", { url: "about:blank" }) as { targetId: string };
    const { sessionId } = await this.send("Target.attachToTarget", { targetId, flatten: true }) as {
      sessionId: string;
    };
    const tab = new Tab(this, targetId, sessionId);
    await tab.send("Page.enable");
    await tab.send("Runtime.enable");
    await tab.send("Emulation.setDeviceMetricsOverride", { width, height, deviceScaleFactor: 1, mobile: false });
    await tab.send("Emulation.setEmulatedMedia", {
      features: [{ name: "prefers-color-scheme", value: dark ? "dark" : "light" }],
    });
    const loaded = new Promise<void>((resolve) => {
      const off = this.on((method, _p, session) => {
        if (method === "Page.loadEventFired" && session === sessionId) (off(), resolve());
      });
    });
    await tab.send("Page.navigate", { url });
    await loaded;
    return tab;
  }

  /** Closes the browser and removes its profile. */
  async close(): Promise<void> {
    try {
      await this.send("Browser.close");
    } catch { /* already gone */ }
    this.#ws.close();
    await this.#child.kill();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** One tab. */
export class Tab {
  /** What the page wrote to the console, and its uncaught errors. */
  readonly console: string[] = [];

  constructor(readonly browser: Browser, readonly targetId: string, readonly sessionId: string) {
    browser.on((method, p, session) => {
      if (session !== sessionId) return;
      if (method === "Runtime.consoleAPICalled") {
        const args = (p.args as { value?: unknown; description?: string }[]).map((a) => a.value ?? a.description);
        this.console.push(`${p.type}: ${args.join(" ")}`);
      } else if (method === "Runtime.exceptionThrown") {
        const d = p.exceptionDetails as { text: string; exception?: { description?: string } };
        this.console.push(`uncaught: ${d.exception?.description ?? d.text}`);
      }
    });
  }

  send(method: string, params: Json = {}): Promise<Json> {
    return this.browser.send(method, params, this.sessionId);
  }

  /** Evaluates `expression` in the page (awaiting a promise) and gives its value. */
  async eval<T = unknown>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true }) as {
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) {
      throw new Error(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text);
    }
    return r.result.value as T;
  }

  /**
   * Waits, in the page, until `expression` is truthy, and gives its value;
   * fails after `timeout` ms showing what the page displays.
   */
  async waitFor<T = unknown>(expression: string, what: string, timeout = 15_000): Promise<T> {
    try {
      return await this.eval<T>(`new Promise((resolve, reject) => {
        const until = Date.now() + ${timeout};
        const tick = () => {
          let v;
          try { v = (${expression}); } catch (e) { v = undefined; }
          if (v) return resolve(v);
          if (Date.now() > until) return reject(new Error("timed out"));
          setTimeout(tick, 20);
        };
        tick();
      })`);
    } catch (e) {
      const text = await this.eval<string>("document.body.innerText").catch(() => "(unreadable)");
      throw new Error(
        `${what}: ${(e as Error).message}\npage text:\n${text.slice(0, 3000)}\nconsole:\n${this.console.join("\n")}`,
      );
    }
  }

  /** A PNG of the viewport. */
  async screenshot(): Promise<Uint8Array> {
    const { data } = await this.send("Page.captureScreenshot", { format: "png" }) as { data: string };
    return Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  }

  async close(): Promise<void> {
    await this.browser.send("Target.closeTarget", { targetId: this.targetId }).catch(() => {});
  }
}
