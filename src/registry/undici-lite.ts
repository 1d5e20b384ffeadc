/**
 * The pieces of undici the registry client uses, `Agent`, `request` and
 * `buildConnector`, loaded without undici's package entry.
 *
 * Why: the entry (`undici/index.js`) eagerly loads fetch, WebSocket,
 * EventSource, cookies, caches and the mock agent. A `tsbuild push` of an
 * unchanged image spent ~100 ms and ~9 MB of its start-up there before
 * sending a byte. The two modules below are all a request needs.
 *
 * Safety: these are undici's own files, not copies, so behaviour is
 * undici's. If a future undici moves them, the loader falls back to the
 * package entry, which is always correct, only slower to load.
 */
import type { Dispatcher } from "undici";
import type * as Undici from "undici";
import { requireUndiciPackage, requireUndiciPart } from "./undici-modules.js";

/** What {@link undiciRequest} accepts: undici's request options, with the dispatcher to send through. */
export interface LiteRequestOptions {
  /** HTTP method. */
  readonly method: Dispatcher.HttpMethod;
  /** Request headers. */
  readonly headers?: Record<string, string>;
  /** Request body. */
  readonly body?: Dispatcher.DispatchOptions["body"];
  /** Cancels the request and its response body. */
  readonly signal?: AbortSignal | undefined;
  /** The dispatcher (agent) to send through. */
  readonly dispatcher: Dispatcher;
}

interface Loaded {
  readonly Agent: typeof Undici.Agent;
  readonly buildConnector: typeof Undici.buildConnector;
  readonly request: (url: URL, options: LiteRequestOptions) => Promise<Dispatcher.ResponseData>;
}

function load(): Loaded {
  try {
    const Agent = requireUndiciPart("agent") as typeof Undici.Agent;
    const apiRequest = requireUndiciPart("api-request") as (this: Dispatcher, opts: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;
    const buildConnector = requireUndiciPart("connect") as typeof Undici.buildConnector;
    if (typeof Agent !== "function" || typeof apiRequest !== "function" || typeof buildConnector !== "function") {
      throw new Error("unexpected undici layout");
    }
    return {
      Agent,
      buildConnector,
      // What undici's entry does for `request(url, opts)`: split the URL into
      // origin and path, and call the API function with the dispatcher as `this`.
      request: (url, { dispatcher, ...rest }) =>
        apiRequest.call(dispatcher, {
          ...rest,
          origin: url.origin,
          path: url.search === "" ? url.pathname : `${url.pathname}${url.search}`,
        }),
    };
  } catch {
    const full = requireUndiciPackage() as typeof Undici;
    return { Agent: full.Agent, buildConnector: full.buildConnector, request: (url, options) => full.request(url, options) };
  }
}

const loaded = load();

/** undici's `Agent` (a connection pool per origin). */
export const UndiciAgent: typeof Undici.Agent = loaded.Agent;

/** undici's `buildConnector` (the socket factory an Agent's `connect` option makes). */
export const undiciBuildConnector: typeof Undici.buildConnector = loaded.buildConnector;

/** undici's `request(url, options)`: sends one request through `options.dispatcher`. */
export const undiciRequest: (url: URL, options: LiteRequestOptions) => Promise<Dispatcher.ResponseData> = loaded.request;
