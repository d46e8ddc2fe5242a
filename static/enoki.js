// enoki.js - browser client for enoki's websocket hub (an ES module, no dependencies).
//
//   import { connect } from "/static/enoki.js";
//   const gw = await connect("/ws", { onStatus: (status, info) => console.log(status, info) });
//   const result = await gw.call("greeting_service.hello", { name: "Matt" });
//   const leave = await gw.subscribe("room1", (event, data) => console.log(event, data));
//   const off = gw.on("notice", (data, frame) => console.log(data));   // unicast and channel events
//   gw.close();
//
// The wire is nameko's websocket hub (nameko.web.websocket): frames {"method", "data", "correlation_id"}
// out; {"type": "result", ...} and {"type": "event", ...} in. After a drop the client reconnects with
// capped exponential backoff and jitter, subscribes every channel again, then sends the calls made
// while it was offline.
//
// Options of connect(url, options) (times in milliseconds):
//   offlineTimeout  30000   a call made while disconnected waits this long for a connection (0: forever)
//   callTimeout     0       a sent call waits this long for its reply (0: the gateway's own deadline)
//   connectTimeout  10000   connect() retries (with the backoff below) until the first connection is
//                           up, and rejects after this long (0: never)
//   minDelay        250     first reconnection delay; doubles per failed attempt ...
//   maxDelay        10000   ... up to this; each delay is drawn at random from [delay/2, delay]
//   reconnect       true    false: a drop closes the client for good
//   onStatus        -       (status, info) with status "connecting", "connected", "reconnecting", "closed"
//   WebSocket       -       the WebSocket class to use (default: globalThis.WebSocket)
//   token           -       a bearer token (JWT) for GATEWAY.auth.websocket: a string, or a function
//                           returning one (or a promise of one), called at every connect and before
//                           the token expires; null, undefined or "" connects without a token
//
// Tokens: browsers cannot set headers on a websocket, so every connect (the first and each reconnect)
// gets the token (the string, or await token()) and sends it as the access_token query parameter of
// the upgrade (gw.url does not show it). When token is a function and the token's payload has a
// numeric exp, the client calls token() again before expiry and sends it with the hub method
// refresh {token}: the socket keeps its id and channels. The refresh is due at 80% of the remaining
// lifetime but at least 1 s before exp (a round trip's margin for short tokens), and never sooner than
// 0.1 s (a token that was nearly spent when the socket opened is replaced at once). The gateway
// accepted the token, so when this browser's clock puts it past exp, or before its iat, the clocks
// disagree: the whole lifetime (exp - iat) counts as remaining, and without an iat there is no
// refresh. If token() or the refresh fails, the client emits "error" and lets the server close the
// socket at exp (1008 "token expired"); the client reconnects as after any drop, with a fresh token.
// A string token, or one whose payload cannot be decoded, is never refreshed: when the server closes
// the socket at its expiry (1008 "token expired"), a string token's client emits "error" and closes
// itself instead of reconnecting with a token that can only be refused. A token() that throws
// counts as a failed connection attempt.
//
// At most 32 calls wait for their answers on the socket at once (the hub answers a socket's frames
// one at a time and closes one that has more than 64 waiting): the others wait in the client, in
// order, and go out as answers come.
//
// Errors: a call rejects with an EnokiError: excType, excPath, excArgs and value come from nameko's
// error object; message is "<excType>: <value>". Errors made by the client itself have excPath
// "enoki.js.<excType>": ConnectionLost (the socket dropped while the call was in flight; it is not
// re-sent, it may or may not have run), Timeout, Closed.
//
// Channels: gw.subscribe(channel, handler) resolves once the hub has subscribed the socket, with a
// function that removes that handler (and unsubscribes the channel when it was the last one);
// handler(event, data, frame) gets every event frame whose "channel" is that channel.
// gw.unsubscribe(channel) drops the channel and all its handlers.
//
// Events: gw.on(name, handler) calls handler(data, frame) for every event frame of that name, those
// of subscribed channels included; "*" matches every event. The client emits three events of its own:
// "reconnected" ({socketId, previousSocketId}, once the channels are subscribed again),
// "disconnected" ({code, reason}) and "error" ({message, ...}).

export class EnokiError extends Error {
  constructor(error) {
    const excType = String(error.exc_type ?? "Error");
    const value = error.value ?? "";
    super(value === "" ? excType : `${excType}: ${value}`);
    this.name = "EnokiError";
    this.excType = excType;
    this.excPath = error.exc_path ?? null;
    this.excArgs = error.exc_args ?? [];
    this.value = value;
  }
}

function localError(excType, message) {
  return new EnokiError({
    exc_type: excType,
    exc_path: `enoki.js.${excType}`,
    exc_args: [message],
    value: message,
  });
}

// "/ws", "ws://host/ws", "http://host/ws" -> an absolute ws: or wss: URL.
export function resolveUrl(url) {
  const base = typeof location !== "undefined" ? location.href : undefined;
  const resolved = new URL(url, base);
  if (resolved.protocol === "http:") resolved.protocol = "ws:";
  else if (resolved.protocol === "https:") resolved.protocol = "wss:";
  if (resolved.protocol !== "ws:" && resolved.protocol !== "wss:") {
    throw new TypeError(`enoki: not a websocket URL: ${url}`);
  }
  resolved.hash = "";
  return resolved.href;
}

// Decoded from the token without verifying it (the gateway verifies): {exp, iat}, or null.
function tokenTimes(token) {
  try {
    const payload = token.split(".")[1];
    if (!payload) return null;
    const b64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(b64.padEnd(b64.length + ((4 - (b64.length % 4)) % 4), "=")), (c) =>
      c.charCodeAt(0),
    );
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    const numeric = (value) => (typeof value === "number" && Number.isFinite(value) ? value : null);
    const exp = numeric(claims?.exp);
    return exp === null ? null : { exp, iat: numeric(claims.iat) };
  } catch {
    return null;
  }
}

const REFRESH_SHARE = 0.8; // of the remaining lifetime
const REFRESH_LEAD = 1000; // ms before exp, at least
const REFRESH_MIN_DELAY = 100;
const MAX_TIMER_DELAY = 2 ** 31 - 1; // setTimeout fires at once beyond this

// When to refresh a token with these exp and iat (seconds), from now (ms), or null: see "Tokens"
// above.
function refreshDelay({ exp, iat }, now) {
  let remaining = exp * 1000 - now;
  const lifetime = iat !== null && iat < exp ? (exp - iat) * 1000 : null;
  if (lifetime !== null && (remaining <= 0 || remaining > lifetime)) remaining = lifetime;
  else if (remaining <= 0) return null;
  const delay = Math.min(remaining * REFRESH_SHARE, remaining - REFRESH_LEAD);
  return Math.min(MAX_TIMER_DELAY, Math.max(REFRESH_MIN_DELAY, delay));
}

const DEFAULTS = {
  offlineTimeout: 30000,
  callTimeout: 0,
  connectTimeout: 10000,
  minDelay: 250,
  maxDelay: 10000,
  reconnect: true,
  onStatus: null,
  WebSocket: null,
  token: null,
};

export function connect(url, options = {}) {
  const opts = { ...DEFAULTS, ...options };
  const WS = opts.WebSocket || globalThis.WebSocket;
  if (!WS) return Promise.reject(new TypeError("enoki: no WebSocket available"));
  let href;
  try {
    href = resolveUrl(url);
  } catch (err) {
    return Promise.reject(err);
  }

  const idPrefix = Math.random().toString(36).slice(2, 10);
  let nextId = 0;
  let ws = null;
  let status = "connecting"; // connecting | connected | reconnecting | closed
  let attempts = 0; // failed attempts since the last successful connection
  let retryTimer = null;
  let everConnected = false;
  let settleFirst = null; // {resolve, reject} of connect() until the first "connected"
  let firstTimer = null;
  let refreshTimer = null;
  let socketToken = null; // the token the current socket was opened or last refreshed with
  const inFlight = new Map(); // correlation_id -> call, in the order sent
  const queued = []; // calls waiting for a connection
  // The hub answers a socket's frames one at a time and stops reading a socket with 64 waiting
  // (nameko's hub reads one at a time): calls beyond MAX_IN_FLIGHT wait here, in order, for an
  // answer to free a place, so that a socket's pings and closes are never stuck behind them.
  const MAX_IN_FLIGHT = 32;
  const backlog = [];
  const channels = new Map(); // channel -> Set of handlers
  const subscribing = new Map(); // channel -> the pending first subscribe call
  const listeners = new Map(); // event name -> Set of handlers

  const setStatus = (next, info = {}) => {
    status = next;
    if (opts.onStatus) {
      try {
        opts.onStatus(next, info);
      } catch (err) {
        reportError(err);
      }
    }
  };

  const reportError = (err) => {
    if (listeners.get("error")?.size) emit("error", { message: String(err?.message ?? err), error: err }, null);
    else console.error("enoki:", err);
  };

  const emit = (name, data, frame) => {
    for (const key of [name, "*"]) {
      const set = listeners.get(key);
      if (!set) continue;
      for (const handler of [...set]) {
        try {
          handler(data, frame);
        } catch (err) {
          if (name !== "error") reportError(err);
          else console.error("enoki:", err);
        }
      }
    }
  };

  // --- calls -------------------------------------------------------------------------------------

  // Sends call now, or puts it in the backlog while MAX_IN_FLIGHT calls wait for answers.
  const dispatch = (call) => {
    if (inFlight.size >= MAX_IN_FLIGHT || backlog.length > 0) backlog.push(call);
    else send(call);
  };

  // A place was freed: the backlog's first calls go out.
  const pump = () => {
    while (status === "connected" && backlog.length > 0 && inFlight.size < MAX_IN_FLIGHT) {
      send(backlog.shift());
    }
  };

  const send = (call) => {
    call.id = `${idPrefix}.${++nextId}`;
    inFlight.set(call.id, call);
    if (call.callTimeout > 0) {
      call.timer = setTimeout(() => {
        if (inFlight.delete(call.id)) {
          call.reject(localError("Timeout", `no reply to ${call.method} within ${call.callTimeout} ms`));
          pump();
        }
      }, call.callTimeout);
    }
    try {
      ws.send(JSON.stringify({ method: call.method, data: call.data, correlation_id: call.id }));
    } catch (err) {
      inFlight.delete(call.id);
      clearTimeout(call.timer);
      call.reject(localError("ConnectionLost", `could not send ${call.method}: ${err.message ?? err}`));
    }
  };

  const enqueue = (method, data, callOptions = {}) =>
    new Promise((resolve, reject) => {
      if (status === "closed") {
        reject(localError("Closed", "the client is closed"));
        return;
      }
      const call = {
        method,
        data: data ?? {},
        resolve,
        reject,
        timer: null,
        callTimeout: callOptions.timeout ?? opts.callTimeout,
      };
      if (status === "connected") {
        dispatch(call);
        return;
      }
      const offlineTimeout = callOptions.offlineTimeout ?? opts.offlineTimeout;
      if (offlineTimeout > 0) {
        call.timer = setTimeout(() => {
          const i = queued.indexOf(call);
          if (i >= 0) {
            queued.splice(i, 1);
            reject(localError("Timeout", `not connected within ${offlineTimeout} ms (${method})`));
          }
        }, offlineTimeout);
      }
      queued.push(call);
    });

  const onResult = (frame) => {
    let id = frame.correlation_id;
    // The hub answers a socket's frames one at a time, in order, and sends a null correlation_id
    // only for a frame it could not parse: that is the oldest call in flight.
    if (id === null || id === undefined) id = inFlight.keys().next().value;
    const call = inFlight.get(id);
    if (!call) return; // timed out, or not ours
    inFlight.delete(id);
    clearTimeout(call.timer);
    if (frame.success) call.resolve(frame.data);
    else call.reject(new EnokiError(frame.error ?? {}));
    pump();
  };

  // --- events ------------------------------------------------------------------------------------

  const onEvent = (frame) => {
    if (frame.event === "connected" && frame.channel === undefined && status !== "connected") {
      onConnected(frame);
      return;
    }
    if (typeof frame.channel === "string") {
      const set = channels.get(frame.channel);
      if (set) {
        for (const handler of [...set]) {
          try {
            handler(frame.event, frame.data, frame);
          } catch (err) {
            reportError(err);
          }
        }
      }
    }
    emit(frame.event, frame.data, frame);
  };

  const onConnected = (frame) => {
    const previousSocketId = gw.socketId;
    gw.socketId = frame.data?.socket_id ?? null;
    attempts = 0;
    const reconnected = everConnected;
    everConnected = true;
    setStatus("connected", { socketId: gw.socketId });
    scheduleRefresh();
    // Channels first: the hub handles frames in order, so the queued calls go out after them.
    const resubscribed = [...channels.keys()].map((channel) =>
      enqueue("subscribe", { channel }).catch((err) => {
        reportError(new Error(`could not subscribe ${channel} again: ${err.message}`));
      }),
    );
    for (const call of queued.splice(0)) {
      clearTimeout(call.timer);
      dispatch(call);
    }
    emit("connected", frame.data, frame);
    if (settleFirst) {
      settleFirst.resolve(gw);
      settleFirst = null;
    }
    if (reconnected) {
      Promise.all(resubscribed).then(() => {
        if (status === "connected" && frame.data?.socket_id === gw.socketId) {
          emit("reconnected", { socketId: gw.socketId, previousSocketId }, null);
        }
      });
    }
  };

  // --- the token ---------------------------------------------------------------------------------

  const getToken = async () => {
    const token = typeof opts.token === "function" ? await opts.token() : opts.token;
    if (token === null || token === undefined || token === "") return null;
    if (typeof token !== "string") throw new TypeError(`enoki: token must be a string, got ${typeof token}`);
    return token;
  };

  const scheduleRefresh = () => {
    clearTimeout(refreshTimer);
    refreshTimer = null;
    if (typeof opts.token !== "function" || socketToken === null) return;
    const times = tokenTimes(socketToken);
    const delay = times === null ? null : refreshDelay(times, Date.now());
    if (delay !== null) refreshTimer = setTimeout(refresh, delay);
  };

  // On failure the socket keeps its old token until the server closes it at exp.
  const refresh = async () => {
    refreshTimer = null;
    const socket = ws;
    const current = () => socket === ws && status === "connected";
    let token;
    try {
      token = await getToken();
      if (token === null) throw new Error("token() returned no token");
    } catch (err) {
      if (current()) reportError(new Error(`could not get a token to refresh: ${err?.message ?? err}`));
      return;
    }
    if (!current()) return;
    try {
      await enqueue("refresh", { token });
    } catch (err) {
      if (current()) reportError(new Error(`could not refresh the token: ${err.message}`));
      return;
    }
    if (!current()) return;
    socketToken = token;
    scheduleRefresh();
  };

  // --- the socket --------------------------------------------------------------------------------

  const open = async () => {
    retryTimer = null;
    let token;
    try {
      token = await getToken();
    } catch (err) {
      if (status === "closed") return;
      reportError(new Error(`could not get a token: ${err?.message ?? err}`));
      onClose(null, { code: 1006, reason: "token() failed" });
      return;
    }
    if (status === "closed") return; // closed while token() ran
    let target = href;
    if (token !== null) {
      const withToken = new URL(href);
      withToken.searchParams.set("access_token", token);
      target = withToken.href;
    }
    let socket;
    try {
      socket = new WS(target);
    } catch (err) {
      onClose(null, { code: 1006, reason: String(err.message ?? err) });
      return;
    }
    ws = socket;
    socketToken = token;
    socket.binaryType = "arraybuffer";
    socket.onmessage = (msg) => {
      if (socket !== ws) return;
      let frame;
      try {
        const text = typeof msg.data === "string" ? msg.data : new TextDecoder().decode(msg.data);
        frame = JSON.parse(text);
      } catch (err) {
        reportError(new Error(`not a JSON frame: ${err.message}`));
        return;
      }
      if (frame?.type === "result") onResult(frame);
      else if (frame?.type === "event") onEvent(frame);
    };
    socket.onclose = (ev) => onClose(socket, ev);
    // onerror is always followed by onclose; nothing to do there.
    socket.onerror = () => {};
  };

  const onClose = (socket, ev) => {
    if (socket && socket !== ws) return;
    ws = null;
    clearTimeout(refreshTimer);
    refreshTimer = null;
    const info = { code: ev.code, reason: ev.reason };
    for (const call of inFlight.values()) {
      clearTimeout(call.timer);
      call.reject(localError("ConnectionLost", `connection lost before the reply to ${call.method}`));
    }
    inFlight.clear();
    // Never sent: they go out on the next connection, ahead of the calls made offline.
    queued.unshift(...backlog.splice(0));
    if (status === "closed") return;
    const wasConnected = status === "connected";
    if (wasConnected) emit("disconnected", info, null);
    if (settleFirst && !opts.reconnect) {
      fail(localError("ConnectionLost", `could not connect to ${href} (code ${ev.code})`));
      return;
    }
    if (!opts.reconnect) {
      shutdown(info);
      return;
    }
    if (ev.code === 1008 && String(ev.reason ?? "").includes("token expired") && typeof opts.token === "string") {
      // A string token is never renewed: every connection from now on would be refused. Said, and
      // stopped, rather than retried for ever.
      reportError(new Error("the token has expired, and a string token cannot be renewed: give a token function"));
      shutdown(info);
      return;
    }
    // Capped exponential backoff, "equal jitter": a delay drawn from [d/2, d].
    const ceiling = Math.min(opts.maxDelay, opts.minDelay * 2 ** Math.min(attempts, 30));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    attempts += 1;
    setStatus(everConnected ? "reconnecting" : "connecting", { ...info, attempt: attempts, delay });
    retryTimer = setTimeout(open, delay);
  };

  const shutdown = (info = {}) => {
    if (status === "closed") return;
    clearTimeout(retryTimer);
    retryTimer = null;
    clearTimeout(firstTimer);
    clearTimeout(refreshTimer);
    refreshTimer = null;
    setStatus("closed", info);
    if (typeof removeEventListener === "function") removeEventListener("online", onOnline);
    for (const call of [...backlog.splice(0), ...queued.splice(0)]) {
      clearTimeout(call.timer);
      call.reject(localError("Closed", "the client is closed"));
    }
    for (const call of inFlight.values()) {
      clearTimeout(call.timer);
      call.reject(localError("Closed", "the client is closed"));
    }
    inFlight.clear();
    if (settleFirst) {
      settleFirst.reject(localError("Closed", "closed before the first connection"));
      settleFirst = null;
    }
    const socket = ws;
    ws = null;
    if (socket) {
      try {
        socket.close(1000);
      } catch {
        // already closing
      }
    }
  };

  const fail = (err) => {
    const pending = settleFirst;
    settleFirst = null;
    shutdown({ error: err.message });
    pending?.reject(err);
  };

  // The network is back: do not wait out the backoff.
  const onOnline = () => {
    if (retryTimer !== null) {
      clearTimeout(retryTimer);
      open();
    }
  };
  if (typeof addEventListener === "function") addEventListener("online", onOnline);

  // --- the public object -------------------------------------------------------------------------

  const gw = {
    socketId: null,

    get status() {
      return status;
    },

    get url() {
      return href;
    },

    call(method, kwargs = {}, callOptions = {}) {
      if (typeof method !== "string" || method === "") {
        return Promise.reject(new TypeError("enoki: method must be a non-empty string"));
      }
      return enqueue(method, kwargs, callOptions);
    },

    async subscribe(channel, handler) {
      if (typeof channel !== "string" || channel === "") throw new TypeError("enoki: channel must be a string");
      if (typeof handler !== "function") throw new TypeError("enoki: handler must be a function");
      let set = channels.get(channel);
      if (!set) channels.set(channel, (set = new Set()));
      set.add(handler);
      const off = () => {
        const current = channels.get(channel);
        if (!current?.delete(handler) || current.size > 0) return Promise.resolve();
        return gw.unsubscribe(channel);
      };
      // The first handler of a channel subscribes it; later ones wait for that same answer.
      let pending = subscribing.get(channel);
      if (!pending) {
        pending = enqueue("subscribe", { channel });
        subscribing.set(channel, pending);
        const done = () => {
          if (subscribing.get(channel) === pending) subscribing.delete(channel);
        };
        pending.then(done, done);
      }
      try {
        await pending;
      } catch (err) {
        if (channels.get(channel) === set) {
          set.delete(handler);
          if (set.size === 0) channels.delete(channel);
        }
        throw err;
      }
      return off;
    },

    async unsubscribe(channel) {
      if (!channels.delete(channel)) return;
      // A later subscribe must send its own: this one's answer comes before the unsubscribe.
      subscribing.delete(channel);
      if (status !== "connected") {
        // The next connection simply does not subscribe it; a subscribe made offline and not sent
        // yet is dropped (settled: the unsubscribe supersedes it).
        for (let i = queued.length - 1; i >= 0; i--) {
          const call = queued[i];
          if (call.method === "subscribe" && call.data?.channel === channel) {
            queued.splice(i, 1);
            clearTimeout(call.timer);
            call.resolve([]);
          }
        }
        return;
      }
      await enqueue("unsubscribe", { channel });
    },

    channels() {
      return [...channels.keys()].sort();
    },

    on(event, handler) {
      if (typeof handler !== "function") throw new TypeError("enoki: handler must be a function");
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(handler);
      return () => {
        set.delete(handler);
      };
    },

    close() {
      shutdown({ code: 1000, reason: "closed by the client" });
    },
  };

  return new Promise((resolve, reject) => {
    settleFirst = { resolve, reject };
    if (opts.connectTimeout > 0) {
      firstTimer = setTimeout(() => {
        if (settleFirst) fail(localError("Timeout", `could not connect to ${href} within ${opts.connectTimeout} ms`));
      }, opts.connectTimeout);
    }
    setStatus("connecting", { url: href });
    open();
  }).finally(() => clearTimeout(firstTimer));
}
