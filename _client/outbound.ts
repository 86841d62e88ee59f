// The client's requests awaiting an answer, by id: their timeouts, their
// abort signals (passed on as `notifications/cancelled`), their progress
// callbacks, and their rejection when the connection that carried them is
// gone. The socket and the connection state stay with the Client.

import { type Classified, ErrorCode, notificationFrame, requestFrame, type RequestId } from "../jsonrpc.ts";
import type { Meta } from "../types.ts";
import type { CloseInfo, Progress, RequestOptions } from "../client.ts";
import { closedError, McpClientError } from "./error.ts";
import { MAX_TIMER } from "../_util/timers.ts";

const OPEN = 1;

interface Pending {
  method: string;
  frame: string;
  sent: boolean;
  handshake: boolean;
  resolve(result: Record<string, unknown>): void;
  reject(error: unknown): void;
  settle(): void;
}

/** What an aborted operation rejects with: the signal's reason, or an `AbortError`. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("The operation was aborted", "AbortError");
}

function reasonText(reason: unknown): string {
  return reason instanceof Error ? reason.message : typeof reason === "string" ? reason : "Cancelled by the client";
}

/** The client's table of requests in flight. */
export class Outbound {
  #nextId = 0;
  #pending = new Map<RequestId, Pending>();
  #progress = new Map<RequestId, (p: Progress) => void>();
  #socket: () => WebSocket | undefined;
  #isOpen: () => boolean;
  #timeout: number;

  /**
   * `socket` gives the current WebSocket, if any; `isOpen` whether requests
   * other than the handshake may go out; `timeout` is the default limit.
   */
  constructor(socket: () => WebSocket | undefined, isOpen: () => boolean, timeout: number) {
    this.#socket = socket;
    this.#isOpen = isOpen;
    this.#timeout = timeout;
  }

  /**
   * Sends a request, at once if the connection is open (or it is the
   * handshake and the socket is open), else at the next {@linkcode flush}.
   * `onId` learns the request's id before it goes out (a listen's
   * notifications name it).
   */
  request(
    method: string,
    params: Record<string, unknown> | undefined,
    options: RequestOptions,
    handshake: boolean,
    onId?: (id: RequestId) => void,
  ): Promise<Record<string, unknown>> {
    const { signal, onProgress, meta } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const id = ++this.#nextId;
    onId?.(id);
    if (onProgress || meta) {
      const m: Meta = { ...(params?._meta as Meta | undefined), ...meta };
      if (onProgress) (m.progressToken = id, this.#progress.set(id, onProgress));
      params = { ...params, _meta: m };
    }
    const timeout = options.timeout ?? this.#timeout;
    return new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const cancel = (reason: string) => {
        const ws = this.#socket();
        if (p.sent && ws?.readyState === OPEN) {
          ws.send(notificationFrame("notifications/cancelled", { requestId: id, reason }));
        }
      };
      const onAbort = () => {
        p.settle();
        cancel(reasonText(signal!.reason));
        reject(abortReason(signal!));
      };
      const p: Pending = {
        method,
        frame: requestFrame(id, method, params),
        sent: false,
        handshake,
        resolve,
        reject,
        settle: () => {
          this.#pending.delete(id);
          this.#progress.delete(id);
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
        },
      };
      if (timeout > 0 && Number.isFinite(timeout)) {
        timer = setTimeout(() => {
          p.settle();
          cancel(`timed out after ${timeout} ms`);
          reject(
            new McpClientError(
              ErrorCode.RequestTimeout,
              `Request timed out: no answer to ${method} within ${timeout} ms`,
              { timeout },
              method,
            ),
          );
        }, Math.min(timeout, MAX_TIMER));
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending.set(id, p);
      const ws = this.#socket();
      if ((this.#isOpen() || handshake) && ws?.readyState === OPEN) {
        p.sent = true;
        ws.send(p.frame);
      }
    });
  }

  /** Settles the request a response answers; drops a late one (timed out or cancelled). */
  answer(c: Extract<Classified, { kind: "response" }>): void {
    const p = this.#pending.get(c.id);
    if (!p || !p.sent) return;
    p.settle();
    if (c.error) {
      const code = Number(c.error.code);
      p.reject(
        new McpClientError(
          Number.isFinite(code) ? code : ErrorCode.InternalError,
          String(c.error.message ?? "error"),
          c.error.data,
          p.method,
        ),
      );
    } else p.resolve(c.result ?? {});
  }

  /** The `onProgress` of the request with this progress token, if it is still pending. */
  progressListener(token: RequestId): ((p: Progress) => void) | undefined {
    return this.#progress.get(token);
  }

  /** Sends the requests made while there was no open connection. */
  flush(ws: WebSocket): void {
    for (const p of this.#pending.values()) {
      if (!p.sent) {
        (p.sent = true, ws.send(p.frame));
      }
    }
  }

  /** Rejects the requests that went out on a connection that is gone, and a handshake's. */
  dropSent(info: CloseInfo): void {
    for (const p of [...this.#pending.values()]) {
      if (p.sent || p.handshake) (p.settle(), p.reject(closedError(info, p.method)));
    }
  }

  /** Rejects every pending request: the client is closed. */
  rejectAll(info: CloseInfo): void {
    for (const p of [...this.#pending.values()]) (p.settle(), p.reject(closedError(info, p.method)));
  }
}
