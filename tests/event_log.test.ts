// Unit tests of _http/sse.ts: the event log of a Streamable HTTP session (event ids, replay after
// Last-Event-ID, trimming, forgetting finished streams), its connections (the prime event, the retry
// field, backpressure) and the SSE text of one event.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { endStreamAt, EventLog, type Sink, sseData, type SseLimits, sseResponse } from "../_http/sse.ts";

const LIMITS: SseLimits = { maxEvents: 100, maxBytes: 1 << 20, maxBuffered: 1 << 20, retry: 1234, keepAlive: 0 };

/** An event log with `limits` over the defaults; `idles` counts the calls of its idle callback. */
function newLog(limits: Partial<SseLimits> = {}) {
  const counts = { idles: 0 };
  const log = new EventLog({ ...LIMITS, ...limits }, () => counts.idles++);
  return { log, counts };
}

/** A sink that records what is written to it. */
function recordingSink(): Sink & { chunks: string[]; closed: boolean } {
  const sink = {
    chunks: [] as string[],
    closed: false,
    write(chunk: string) {
      sink.chunks.push(chunk);
    },
    close() {
      sink.closed = true;
    },
  };
  return sink;
}

/** The ids of the events in SSE text. */
const idsIn = (text: string) => [...text.matchAll(/^id: (\S+)$/gm)].map((m) => m[1]);

/** Everything a response body carries until it ends (failing after 2 s). */
async function readAll(body: ReadableStream<Uint8Array>): Promise<string> {
  const reader = body.getReader();
  const dec = new TextDecoder();
  let text = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the body did not end; read so far: ${JSON.stringify(text)}`)), 2000);
  });
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), late]);
      if (done) return text;
      text += dec.decode(value, { stream: true });
    }
  } finally {
    clearTimeout(timer);
  }
}

/** The next chunk of a body, as text. */
async function readChunk(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const { done, value } = await reader.read();
  assert.equal(done, false, "the body ended");
  return new TextDecoder().decode(value);
}

describe("sseData", () => {
  test("one line is one data field", () => {
    assert.equal(sseData('{"a":1}'), 'data: {"a":1}');
    assert.equal(sseData(""), "data: ");
  });

  test("every line of a multi-line text gets its own data field, so no line ends the event early", () => {
    assert.equal(sseData("a\nb\n\nc"), "data: a\ndata: b\ndata: \ndata: c");
    assert.equal(sseData("a\n"), "data: a\ndata: ");
    // No line of the output is empty: an empty line would end the SSE event.
    assert.ok(!sseData("x\n\ny").split("\n").includes(""));
  });
});

describe("EventLog: event ids", () => {
  test("ids are <stream>-<n>, n counting every event of the session across its streams", () => {
    const { log } = newLog();
    const a = log.newStream(), b = log.newStream();
    assert.deepEqual([a.num, b.num], [1, 2]);
    const sa = recordingSink(), sb = recordingSink(), s0 = recordingSink();
    a.sink = sa;
    b.sink = sb;
    log.standalone.sink = s0;
    log.write(a, "one");
    log.write(b, "two");
    log.write(a, "three");
    log.write(log.standalone, "four");
    assert.deepEqual(sa.chunks, ["id: 1-1\ndata: one\n\n", "id: 1-3\ndata: three\n\n"]);
    assert.deepEqual(sb.chunks, ["id: 2-2\ndata: two\n\n"]);
    assert.deepEqual(s0.chunks, ["id: 0-4\ndata: four\n\n"]);
    assert.equal(log.last, 4);
    // A stream made later starts after the last event, and its number is new.
    const c = log.newStream();
    assert.equal(c.num, 3);
    assert.equal(log.streams.get(3), c);
  });

  test("a multi-line event is sent as several data lines under one id", () => {
    const { log } = newLog();
    const s = log.newStream();
    const sink = recordingSink();
    s.sink = sink;
    log.write(s, "x\ny");
    assert.deepEqual(sink.chunks, ["id: 1-1\ndata: x\ndata: y\n\n"]);
  });

  test("an event written while the stream has no connection is kept, not delivered", () => {
    const { log } = newLog();
    log.write(log.standalone, "early");
    assert.equal(log.standalone.delivered, 0);
    assert.equal(log.standalone.retained, 1);
    const sink = recordingSink();
    log.standalone.sink = sink;
    log.write(log.standalone, "live");
    assert.equal(log.standalone.delivered, 2);
    assert.deepEqual(sink.chunks, ["id: 0-2\ndata: live\n\n"]);
  });
});

describe("EventLog: replay", () => {
  test("replays the stream's own events after the given one, in order, and counts them", () => {
    const { log } = newLog();
    const a = log.newStream(), b = log.newStream();
    for (let i = 1; i <= 6; i++) log.write(i % 2 ? a : b, `e${i}`); // a: 1, 3, 5; b: 2, 4, 6
    const sink = recordingSink();
    a.sink = sink;
    assert.equal(log.replay(a, 1), 2);
    assert.deepEqual(sink.chunks, ["id: 1-3\ndata: e3\n\n", "id: 1-5\ndata: e5\n\n"]);
    assert.equal(log.replay(a, 5), 0);
    assert.equal(log.replay(a, 0), 3);
    // A POST stream's delivered mark is the standalone stream's business only.
    assert.equal(a.delivered, 0);
  });

  test("hasEventsAfter looks at the stream's own events only", () => {
    const { log } = newLog();
    const a = log.newStream(), b = log.newStream();
    log.write(a, "1");
    log.write(b, "2");
    assert.equal(log.hasEventsAfter(a, 0), true);
    assert.equal(log.hasEventsAfter(a, 1), false, "event 2 is b's");
    assert.equal(log.hasEventsAfter(b, 1), true);
    assert.equal(log.hasEventsAfter(b, 2), false);
  });

  test("replaying the standalone stream moves its delivered mark to the last event replayed", () => {
    const { log } = newLog();
    const other = log.newStream();
    log.write(log.standalone, "1");
    log.write(log.standalone, "2");
    log.write(other, "3");
    const sink = recordingSink();
    log.standalone.sink = sink;
    assert.equal(log.replay(log.standalone, 0), 2);
    assert.equal(log.standalone.delivered, 2);
    assert.deepEqual(idsIn(sink.chunks.join("")), ["0-1", "0-2"]);
  });

  test("replay without a connection writes nothing but still counts", () => {
    const { log } = newLog();
    const s = log.newStream();
    log.write(s, "a");
    assert.equal(log.replay(s, 0), 1);
  });
});

describe("EventLog: trimming", () => {
  test("keeps at most maxEvents events, dropping the oldest", () => {
    const { log } = newLog({ maxEvents: 3 });
    const s = log.newStream();
    for (let i = 1; i <= 5; i++) log.write(s, `e${i}`);
    assert.equal(s.retained, 3);
    const sink = recordingSink();
    s.sink = sink;
    assert.equal(log.replay(s, 0), 3);
    assert.deepEqual(idsIn(sink.chunks.join("")), ["1-3", "1-4", "1-5"]);
  });

  test("maxEvents counts the events of every stream together", () => {
    const { log } = newLog({ maxEvents: 2 });
    const a = log.newStream(), b = log.newStream();
    log.write(a, "1");
    log.write(b, "2");
    log.write(b, "3");
    assert.equal(a.retained, 0);
    assert.equal(b.retained, 2);
    assert.equal(log.hasEventsAfter(a, 0), false);
  });

  test("keeps at most maxBytes of event text, dropping the oldest", () => {
    const { log } = newLog({ maxBytes: 8 });
    const s = log.newStream();
    log.write(s, "aaaa");
    log.write(s, "bbbb");
    assert.equal(s.retained, 2, "8 bytes fit");
    log.write(s, "cccc");
    assert.equal(s.retained, 2, "12 bytes do not: the first goes");
    const sink = recordingSink();
    s.sink = sink;
    log.replay(s, 0);
    assert.deepEqual(idsIn(sink.chunks.join("")), ["1-2", "1-3"]);
  });

  test("an event larger than maxBytes is delivered live but not kept", () => {
    const { log } = newLog({ maxBytes: 10 });
    const s = log.newStream();
    log.write(s, "small");
    const sink = recordingSink();
    s.sink = sink;
    log.write(s, "x".repeat(11));
    assert.deepEqual(sink.chunks, [`id: 1-2\ndata: ${"x".repeat(11)}\n\n`]);
    assert.equal(s.retained, 0);
    assert.equal(log.replay(s, 0), 0);
  });

  test("replay stays right through many trims (the log compacts its array)", () => {
    const { log } = newLog({ maxEvents: 10 });
    const a = log.newStream(), b = log.newStream();
    for (let i = 1; i <= 500; i++) log.write(i % 3 ? a : b, `e${i}`);
    const sink = recordingSink();
    a.sink = sink;
    const expected = [];
    for (let i = 491; i <= 500; i++) if (i % 3) expected.push(`1-${i}`);
    assert.equal(log.replay(a, 0), expected.length);
    assert.deepEqual(idsIn(sink.chunks.join("")), expected);
    assert.equal(a.retained + b.retained, 10);
    assert.deepEqual(
      sink.chunks.map((c) => /data: (\S+)/.exec(c)![1]),
      expected.map((id) => `e${id.slice(2)}`),
    );
  });
});

describe("EventLog: finished streams", () => {
  test("a finished stream with nothing retained is forgotten at once; its connection ends", () => {
    const { log } = newLog({ maxBytes: 0 });
    const s = log.newStream();
    const sink = recordingSink();
    s.sink = sink;
    log.write(s, "x"); // not kept: maxBytes 0
    log.finish(s);
    assert.equal(sink.closed, true);
    assert.equal(s.sink, undefined);
    assert.equal(s.done, true);
    assert.equal(log.streams.has(s.num), false);
  });

  test("a finished stream is kept while events of it are retained, and forgotten when the last is trimmed", () => {
    const { log } = newLog({ maxEvents: 2 });
    const s = log.newStream(), other = log.newStream();
    log.write(s, "1");
    log.write(s, "2");
    log.finish(s);
    assert.equal(log.streams.get(s.num), s, "its events can still be resumed");
    log.write(other, "3");
    assert.equal(log.streams.get(s.num), s, "event 2 is still there");
    log.write(other, "4");
    assert.equal(s.retained, 0);
    assert.equal(log.streams.has(s.num), false);
    assert.equal(log.streams.get(other.num), other, "an unfinished stream stays");
  });

  test("a finished stream resumed on a connection is not forgotten until that connection ends", async () => {
    const { log, counts } = newLog({ maxEvents: 1 });
    const s = log.newStream(), other = log.newStream();
    log.write(s, "1");
    log.finish(s);
    const body = log.connect(s, undefined);
    log.replay(s, 0);
    log.write(other, "2"); // trims s's last event while s is connected
    assert.equal(s.retained, 0);
    assert.equal(log.streams.get(s.num), s);
    await body.cancel();
    assert.equal(counts.idles, 1);
    assert.equal(log.streams.has(s.num), false);
  });

  test("finish is done once", () => {
    const { log } = newLog();
    const s = log.newStream();
    log.write(s, "1");
    log.finish(s);
    const sink = recordingSink();
    s.sink = sink; // resumed
    log.finish(s);
    assert.equal(sink.closed, false, "a second finish does not close the resumed connection");
  });
});

describe("EventLog: connections", () => {
  test("the prime event is an empty event with the given id and the retry field", async () => {
    const { log } = newLog();
    const s = log.newStream();
    const body = log.connect(s, 7);
    log.finish(s);
    assert.equal(await readAll(body), "id: 1-7\nretry: 1234\ndata:\n\n");
  });

  test("without a prime nothing is written first", async () => {
    const { log } = newLog();
    const s = log.newStream();
    const body = log.connect(s, undefined);
    log.write(s, "hello");
    log.finish(s);
    assert.equal(await readAll(body), "id: 1-1\ndata: hello\n\n");
  });

  test("closeConnection ends the connection with the retry field, keeping the stream and its events", async () => {
    const { log, counts } = newLog();
    const s = log.newStream();
    const body = log.connect(s, 0);
    log.write(s, "a");
    assert.equal(log.closeConnection(s), true);
    assert.equal(await readAll(body), "id: 1-0\nretry: 1234\ndata:\n\nid: 1-1\ndata: a\n\nretry: 1234\n\n");
    assert.equal(s.sink, undefined);
    assert.equal(counts.idles, 1);
    assert.equal(s.done, false);
    assert.equal(log.streams.get(s.num), s);
    assert.equal(log.hasEventsAfter(s, 0), true);
    assert.equal(log.closeConnection(s), false, "no connection left to close");
  });

  test("a new connection replaces the stream's previous one, which ends", async () => {
    const { log, counts } = newLog();
    const first = log.connect(log.standalone, undefined);
    const second = log.connect(log.standalone, undefined);
    assert.equal(await readAll(first), "");
    assert.equal(counts.idles, 1);
    log.write(log.standalone, "to the second");
    log.closeConnection(log.standalone);
    assert.equal(await readAll(second), "id: 0-1\ndata: to the second\n\nretry: 1234\n\n");
  });

  test("a client that cancels the body leaves the stream without a connection, and idle is told", async () => {
    const { log, counts } = newLog();
    const s = log.newStream();
    const body = log.connect(s, undefined);
    assert.equal(log.connected, true);
    await body.cancel();
    assert.equal(s.sink, undefined);
    assert.equal(log.connected, false);
    assert.equal(counts.idles, 1);
    log.write(s, "later"); // kept for a resumption
    assert.equal(s.retained, 1);
  });

  test("a connection whose client does not read is closed once maxBuffered is exceeded; its events stay", async () => {
    const { log, counts } = newLog({ maxBuffered: 64 });
    const s = log.newStream();
    const body = log.connect(s, undefined);
    log.write(s, "small"); // 21 bytes queued: under 64
    assert.ok(s.sink && !s.sink.closed, "still connected under the limit");
    log.write(s, "x".repeat(50)); // now over 64 bytes queued, desiredSize < 0
    assert.equal(s.sink, undefined, "the connection is dropped");
    assert.equal(counts.idles, 1);
    log.write(s, "after");
    // What was queued is still readable, and then the body ends.
    assert.deepEqual(idsIn(await readAll(body)), ["1-1", "1-2"]);
    // Nothing is lost: a resumption gets all three.
    const sink = recordingSink();
    s.sink = sink;
    assert.equal(log.replay(s, 0), 3);
  });

  test("a connection filled up to exactly maxBuffered stays open", () => {
    const { log } = newLog({ maxBuffered: "id: 1-1\ndata: small\n\n".length });
    const s = log.newStream();
    log.connect(s, undefined);
    log.write(s, "small"); // desiredSize 0: full, not over
    assert.ok(s.sink && !s.sink.closed);
    log.write(s, "!"); // over
    assert.equal(s.sink, undefined);
    log.finish(s);
  });

  test("keep-alive comments are written every keepAlive ms until the connection ends", async () => {
    const { log } = newLog({ keepAlive: 10 });
    const body = log.connect(log.standalone, undefined);
    const reader = body.getReader();
    assert.equal(await readChunk(reader), ": keep-alive\n\n");
    assert.equal(await readChunk(reader), ": keep-alive\n\n");
    log.closeConnection(log.standalone);
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    assert.match(rest, /retry: 1234\n\n$/);
  });

  test("connected says whether any stream has a connection", async () => {
    const { log } = newLog();
    assert.equal(log.connected, false);
    const s = log.newStream();
    const body = log.connect(s, undefined);
    assert.equal(log.connected, true);
    log.finish(s);
    assert.equal(log.connected, false);
    await readAll(body);
  });
});

describe("EventLog: clear", () => {
  test("closes every connection and forgets every stream and event", async () => {
    const { log } = newLog();
    const a = log.newStream();
    const s0 = log.connect(log.standalone, undefined);
    const sa = log.connect(a, undefined);
    log.write(a, "1");
    log.write(log.standalone, "2");
    log.clear();
    assert.equal(log.connected, false);
    assert.equal(log.streams.size, 0);
    assert.equal(log.standalone.sink, undefined);
    assert.equal(await readAll(sa), "id: 1-1\ndata: 1\n\n");
    assert.equal(await readAll(s0), "id: 0-2\ndata: 2\n\n");
    assert.equal(log.hasEventsAfter(a, 0), false);
    assert.equal(log.hasEventsAfter(log.standalone, 0), false);
    assert.equal(log.replay(log.standalone, 0), 0);
  });

  test("the byte count starts over: a full log cleared takes events again", () => {
    const { log } = newLog({ maxBytes: 8 });
    const s = log.newStream();
    log.write(s, "12345678");
    log.clear();
    const t = log.newStream();
    log.write(t, "abcd");
    assert.equal(t.retained, 1);
    assert.equal(log.hasEventsAfter(t, 0), true);
  });
});

describe("sseResponse and endStreamAt", () => {
  test("sseResponse is a 200 event stream that is not cached", () => {
    const res = sseResponse(new ReadableStream(), { "mcp-session-id": "s" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    assert.equal(res.headers.get("cache-control"), "no-cache");
    assert.equal(res.headers.get("mcp-session-id"), "s");
  });

  test("endStreamAt leaves a response that is not an event stream as it is", () => {
    const res = new Response("{}", { headers: { "content-type": "application/json" } });
    assert.equal(endStreamAt(res, Date.now()), res);
  });

  test("endStreamAt ends an event stream at the given time, cancelling its source", async () => {
    let cancelled: unknown;
    const source = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode(": first\n\n"));
      },
      cancel(reason) {
        cancelled = reason;
      },
    });
    const t0 = Date.now();
    const res = endStreamAt(sseResponse(source), t0 + 50);
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    assert.equal(await readAll(res.body!), ": first\n\n");
    assert.ok(Date.now() - t0 >= 40, "not before its time");
    assert.equal(cancelled, "the access token expired");
  });

  test("endStreamAt passes a stream that ends before the time through whole", async () => {
    const source = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode("data: a\n\n"));
        c.close();
      },
    });
    const res = endStreamAt(sseResponse(source), Date.now() + 60_000);
    assert.equal(await readAll(res.body!), "data: a\n\n");
  });
});
