// The SSE side of Streamable HTTP: a session's logical streams (one per POST that answers with SSE,
// plus the standalone GET stream), the event log that lets a client resume a broken stream with
// Last-Event-ID, and the response bodies that carry them. Event ids are `<stream>-<n>`, n counting
// across the session. A cluster backend keeps this log where every instance can replay it.

import { callAt } from "../_util/timers.ts";

const enc = new TextEncoder();

/** One live HTTP response body carrying SSE. */
export interface Sink {
  write(chunk: string): void;
  close(): void;
  readonly closed: boolean;
}

/** A logical SSE stream: a POST's stream or the session's standalone (GET) stream. It may outlive its connections. */
export interface Stream {
  readonly num: number;
  readonly standalone: boolean;
  sink?: Sink;
  /** Every response on it has been sent. */
  done: boolean;
  /** Its events still in the log. */
  retained: number;
  /** Highest event number written to a connection (standalone stream). */
  delivered: number;
}

interface LoggedEvent {
  n: number;
  stream: Stream;
  text: string;
  bytes: number;
}

/** Limits of an event log and its streams. */
export interface SseLimits {
  /** Events kept for resumption. */
  maxEvents: number;
  /** Bytes of events kept for resumption. */
  maxBytes: number;
  /** Bytes queued to a stream the client does not read before that connection is closed. */
  maxBuffered: number;
  /** Milliseconds a client should wait before reconnecting (the SSE `retry` field). */
  retry: number;
  /** Milliseconds between keep-alive comments; 0 for none. */
  keepAlive: number;
}

export function sseData(text: string): string {
  return text.includes("\n") ? text.split("\n").map((l) => `data: ${l}`).join("\n") : `data: ${text}`;
}

export function sseResponse(body: ReadableStream<Uint8Array>, headers: Record<string, string> = {}): Response {
  return new Response(body, {
    status: 200,
    headers: { "content-type": "text/event-stream", "cache-control": "no-cache", ...headers },
  });
}

/**
 * The response with its SSE stream, if it is one, ended at `at` (ms since the epoch): the expiry of the
 * access token that opened it. The client sees the stream end as any, and resumes with a fresh token.
 */
export function endStreamAt(res: Response, at: number): Response {
  if (!res.body || !res.headers.get("content-type")?.startsWith("text/event-stream")) return res;
  const reader = res.body.getReader();
  let stop: (() => void) | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      stop = callAt(at, () => {
        reader.cancel("the access token expired").catch(() => {});
        try {
          controller.close();
        } catch { /* already closed */ }
      });
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      try {
        if (done) (stop?.(), controller.close());
        else controller.enqueue(value);
      } catch { /* closed at expiry meanwhile */ }
    },
    cancel(reason) {
      stop?.();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: res.status, headers: res.headers });
}

/** The streams and retained events of one HTTP session. */
export class EventLog {
  readonly streams = new Map<number, Stream>();
  readonly standalone: Stream = { num: 0, standalone: true, done: false, retained: 0, delivered: 0 };
  #events: LoggedEvent[] = [];
  #head = 0;
  #bytes = 0;
  #counter = 0;
  #nextStream = 1;

  /** `idle` is called when a connection of a stream ends (the session is active until then). */
  constructor(readonly limits: SseLimits, private readonly idle: () => void) {}

  /** The number of the last event written: a new stream starts after it. */
  get last(): number {
    return this.#counter;
  }

  /** A new stream for a POST answered with SSE. */
  newStream(): Stream {
    const stream: Stream = { num: this.#nextStream++, standalone: false, done: false, retained: 0, delivered: 0 };
    this.streams.set(stream.num, stream);
    return stream;
  }

  /** Logs an event on `stream` and writes it to the stream's connection, if it has one. */
  write(stream: Stream, text: string): void {
    const n = ++this.#counter;
    const ev: LoggedEvent = { n, stream, text, bytes: text.length };
    this.#events.push(ev);
    this.#bytes += ev.bytes;
    stream.retained++;
    if (stream.sink) {
      stream.sink.write(`id: ${stream.num}-${n}\n${sseData(text)}\n\n`);
      stream.delivered = n;
    }
    this.#trim();
  }

  #trim(): void {
    const { maxEvents, maxBytes } = this.limits;
    while (
      this.#events.length - this.#head > maxEvents || (this.#bytes > maxBytes && this.#events.length > this.#head)
    ) {
      const ev = this.#events[this.#head++];
      this.#bytes -= ev.bytes;
      ev.stream.retained--;
      if (ev.stream.done && ev.stream.retained === 0 && !ev.stream.sink) this.streams.delete(ev.stream.num);
    }
    if (this.#head > 64 && this.#head * 2 > this.#events.length) {
      this.#events = this.#events.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Writes the retained events of `stream` after event `after` to its connection. */
  replay(stream: Stream, after: number): number {
    let count = 0;
    for (let i = this.#head; i < this.#events.length; i++) {
      const ev = this.#events[i];
      if (ev.stream !== stream || ev.n <= after) continue;
      stream.sink?.write(`id: ${stream.num}-${ev.n}\n${sseData(ev.text)}\n\n`);
      if (stream.standalone) stream.delivered = ev.n;
      count++;
    }
    return count;
  }

  hasEventsAfter(stream: Stream, after: number): boolean {
    for (let i = this.#head; i < this.#events.length; i++) {
      if (this.#events[i].stream === stream && this.#events[i].n > after) return true;
    }
    return false;
  }

  /** Every response on `stream` is out: end its connection, and forget it once nothing of it is retained. */
  finish(stream: Stream): void {
    if (stream.done) return;
    stream.done = true;
    stream.sink?.close();
    stream.sink = undefined;
    if (stream.retained === 0) this.streams.delete(stream.num);
  }

  /** Ends the connection of `stream` and tells the client when to come back for the rest (2025-11-25 polling). */
  closeConnection(stream: Stream): boolean {
    const sink = stream.sink;
    if (!sink) return false;
    sink.write(`retry: ${this.limits.retry}\n\n`);
    sink.close();
    return true;
  }

  /**
   * A response body for `stream`, replacing its previous connection. `prime`,
   * when given, is written first as an empty event with that id, so the client
   * can resume even a stream that has sent nothing yet.
   */
  connect(stream: Stream, prime: number | undefined): ReadableStream<Uint8Array> {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let timer: ReturnType<typeof setInterval> | undefined;
    let closed = false;
    const gone = () => {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearInterval(timer);
      if (stream.sink === sink) {
        stream.sink = undefined;
        this.idle();
        if (stream.done && stream.retained === 0) this.streams.delete(stream.num);
      }
    };
    const sink: Sink = {
      get closed() {
        return closed;
      },
      write(chunk) {
        if (closed) return;
        try {
          controller.enqueue(enc.encode(chunk));
        } catch {
          return gone();
        }
        // A client that stops reading loses this connection, not its events: it can resume.
        if ((controller.desiredSize ?? 0) < 0) sink.close();
      },
      close() {
        if (closed) return;
        gone();
        try {
          controller.close();
        } catch { /* already closed or cancelled */ }
      },
    };
    const body = new ReadableStream<Uint8Array>(
      {
        start(c) {
          controller = c;
        },
        cancel: gone,
      },
      new ByteLengthQueuingStrategy({ highWaterMark: this.limits.maxBuffered }),
    );
    const keepAlive = this.limits.keepAlive;
    if (keepAlive > 0) timer = setInterval(() => sink.write(": keep-alive\n\n"), keepAlive);
    stream.sink?.close();
    stream.sink = sink;
    if (prime !== undefined) sink.write(`id: ${stream.num}-${prime}\nretry: ${this.limits.retry}\ndata:\n\n`);
    return body;
  }

  /** Whether any stream has a connection open. */
  get connected(): boolean {
    return !!this.standalone.sink || [...this.streams.values()].some((s) => s.sink);
  }

  /** Closes every connection and forgets every event (the session ended). */
  clear(): void {
    for (const s of [this.standalone, ...this.streams.values()]) {
      s.sink?.close();
      s.sink = undefined;
    }
    this.streams.clear();
    this.#events = [];
    this.#head = 0;
    this.#bytes = 0;
  }
}
