// enoki's browser test: static/enoki.js and static/demo.html in a real Chromium, against the real
// binary, a real RabbitMQ and the nameko-wire test peer.
//
//   cd tests/e2e && npm install && npm test          (ENOKI_BIN defaults to build/enoki)
//
// Environment: ENOKI_BIN (the binary), ENOKI_TEST_AMQP_URI (default amqp://guest:guest@127.0.0.1:5672/),
// CHROMIUM (default /usr/bin/chromium: Debian's package; no browser is ever downloaded).
// It starts the peer and enoki itself, restarts enoki once (the page must reconnect by itself), and
// deletes the exchanges and queues this run made. A screenshot of the demo page is
// written to /tmp/enoki-demo.png. A second enoki requires a token on its websocket
// (GATEWAY.auth.websocket: required): enoki.js's token option, with HS256 tokens of 3 s minted by
// this process, connects, calls and is refreshed before expiry.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createHmac, randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AMQP_URI, ENOKI_BIN, EXCHANGE, RUN, SVC, cleanupBroker, freePort, launchChromium, log, preflight,
  runHelper, sleep, startEnoki as startEnokiOn, startGateway, startPeer, stop, stopGateway,
} from "./harness.mjs";

const SCREENSHOT = "/tmp/enoki-demo.png";
const GWNAME = `gwe2e${RUN}`;
const GWNAME_AUTH = `${GWNAME}auth`; // the second enoki's (its queues are this run's too)
const CHANNEL = `room-${RUN}`;
const CHANNEL2 = `lobby-${RUN}`;
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

// An RPC to enoki's own service <GATEWAY.name>.<method>, as a nameko service would make it.
async function gatewayRpc(method, kwargs) {
  const reply = await runHelper("call", EXCHANGE, `${GWNAME}.${method}`, JSON.stringify(kwargs));
  assert.equal(reply.helper_error, undefined, reply.helper_error);
  assert.deepEqual(reply.error, null, `${GWNAME}.${method} answered an error: ${JSON.stringify(reply.error)}`);
  return reply.result;
}

let configPath;
let port;
let enokiBin; // a copy of ENOKI_BIN: a rebuild during the run must not change the restarted binary

const startEnoki = (bin = enokiBin, config = configPath, httpPort = port) => startEnokiOn(bin, config, httpPort);

describe("enoki.js and demo.html in Chromium", { timeout: 60000 }, () => {
  let tmp;
  let peer;
  let enoki;
  let context;
  let page; // the test's page: the demo page, plus a client of the test's own (window.t)
  const pageErrors = [];

  before(async () => {
    await preflight();
    tmp = mkdtempSync(join(tmpdir(), "enoki-e2e-"));
    enokiBin = join(tmp, "enoki");
    copyFileSync(ENOKI_BIN, enokiBin);
    chmodSync(enokiBin, 0o755);
    port = await freePort();
    configPath = join(tmp, "gateway.yaml");
    writeFileSync(
      configPath,
      [
        `AMQP_URI: "${AMQP_URI}"`,
        `WEB_SERVER_ADDRESS: "127.0.0.1:${port}"`,
        `rpc_exchange: "${EXCHANGE}"`,
        "GATEWAY:",
        `  name: "${GWNAME}"`,
        "  rpc_timeout: 10",
        `  expose: ["${SVC}.*"]`,
        // Channels are closed unless listed: the page subscribes to these two.
        `  channels: ["room-*", "lobby-*"]`,
        "",
      ].join("\n"),
    );
    peer = await startPeer();
    enoki = await startEnoki();
    context = await launchChromium(join(tmp, "chromium-profile"));
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (err) => pageErrors.push(String(err)));
  });

  after(async () => {
    await context?.close().catch(() => {});
    await stop(enoki);
    await stop(peer);
    await cleanupBroker(GWNAME);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  let firstSocketId;

  it("serves the demo page, which connects to /ws", async () => {
    const resp = await page.goto(`http://127.0.0.1:${port}/static/demo.html`);
    assert.equal(resp.status(), 200);
    assert.match(resp.headers()["content-type"], /^text\/html/);
    await page.waitForFunction(() => document.querySelector("#status b")?.textContent === "connected", null, {
      timeout: 10000,
    });
    assert.match(await page.textContent("#socket"), /^socket [0-9a-f-]{36}$/);
  });

  it("connect() resolves after the connected event, with the socket id", async () => {
    const info = await page.evaluate(async () => {
      const mod = await import("/static/enoki.js");
      const t = (window.t = { events: [], frames: [], statuses: [], reconnected: [], mod });
      t.gw = await mod.connect("/ws", {
        minDelay: 100,
        maxDelay: 1000,
        onStatus: (status) => t.statuses.push(status),
      });
      t.gw.on("reconnected", (info) => t.reconnected.push(info));
      t.gw.on("*", (data, frame) => {
        if (frame) t.frames.push(frame);
      });
      return { socketId: t.gw.socketId, status: t.gw.status, statuses: t.statuses, url: t.gw.url };
    });
    assert.match(info.socketId, UUID4);
    assert.equal(info.status, "connected");
    assert.deepEqual(info.statuses, ["connecting", "connected"]);
    assert.equal(info.url, `ws://127.0.0.1:${port}/ws`);
    firstSocketId = info.socketId;
  });

  it("calls a method of the cluster", async () => {
    const result = await page.evaluate(
      (svc) => window.t.gw.call(`${svc}.echo`, { greeting: "héllo", n: 1, nested: { list: [1, null, true] } }),
      SVC,
    );
    assert.deepEqual(result, { args: [], kwargs: { greeting: "héllo", n: 1, nested: { list: [1, null, true] } } });
    // Several calls in flight at once each get their own answer.
    const many = await page.evaluate(
      (svc) => Promise.all([1, 2, 3, 4, 5].map((i) => window.t.gw.call(`${svc}.echo`, { i }))),
      SVC,
    );
    assert.deepEqual(
      many.map((r) => r.kwargs.i),
      [1, 2, 3, 4, 5],
    );
  });

  it("a hundred calls at once all get their answers, on the one socket", async () => {
    // The hub closes a socket with more than 64 frames waiting (1008): the client keeps the rest.
    const out = await page.evaluate(async (svc) => {
      const { gw } = window.t;
      const before = gw.socketId;
      const results = await Promise.all(Array.from({ length: 100 }, (_, i) => gw.call(`${svc}.echo`, { i })));
      return { same: gw.socketId === before, is: results.map((r) => r.kwargs.i) };
    }, SVC);
    assert.equal(out.same, true);
    assert.deepEqual(out.is, Array.from({ length: 100 }, (_, i) => i));
  });

  it("rejects with the remote error", async () => {
    const errors = await page.evaluate(async (svc) => {
      const grab = (p) =>
        p.then(
          (data) => ({ resolved: data }),
          (err) => ({
            isError: err instanceof Error,
            isEnokiError: err instanceof window.t.mod.EnokiError,
            message: err.message,
            excType: err.excType,
            excPath: err.excPath,
            excArgs: err.excArgs,
            value: err.value,
          }),
        );
      const { gw } = window.t;
      return {
        // the service itself has no such method
        remote: await grab(gw.call(`${svc}.no_such_method`, {})),
        // the hub has no such method, nor exposes this service
        hub: await grab(gw.call("no_such_method", {})),
        hidden: await grab(gw.call("billing_nowhere.charge", {})),
        // a method that raises
        fail: await grab(gw.call(`${svc}.fail`, {})),
        // a bad signature
        sig: await grab(gw.call(`${svc}.two`, { x: 1 })),
      };
    }, SVC);
    assert.deepEqual(errors.remote, {
      isError: true,
      isEnokiError: true,
      message: "MethodNotFound: no_such_method",
      excType: "MethodNotFound",
      excPath: "nameko.exceptions.MethodNotFound",
      excArgs: ["no_such_method"],
      value: "no_such_method",
    });
    for (const key of ["hub", "hidden"]) {
      assert.deepEqual(
        errors[key],
        {
          isError: true,
          isEnokiError: true,
          message: "MethodNotFound",
          excType: "MethodNotFound",
          excPath: "nameko.exceptions.MethodNotFound",
          excArgs: [],
          value: "",
        },
        key,
      );
    }
    assert.equal(errors.fail.excType, "ValueError");
    assert.equal(errors.fail.excPath, "builtins.ValueError");
    assert.equal(errors.fail.message, `ValueError: ${errors.fail.value}`);
    assert.equal(errors.sig.excType, "IncorrectSignature");
    assert.match(errors.sig.value, /missing 1 required positional argument: 'y'/);
  });

  it("subscribes and receives broadcasts and unicasts", async () => {
    const subs = await page.evaluate(
      async ([a, b]) => {
        const { t } = window;
        await t.gw.subscribe(a, (event, data, frame) => t.events.push({ channel: a, event, data, frame }));
        await t.gw.subscribe(b, (event, data) => t.events.push({ channel: b, event, data }));
        return { local: t.gw.channels(), hub: await t.gw.call("get_subscriptions", {}) };
      },
      [CHANNEL, CHANNEL2],
    );
    assert.deepEqual(subs.local, [CHANNEL2, CHANNEL].sort());
    assert.deepEqual(subs.hub, [CHANNEL2, CHANNEL].sort());

    // The demo page subscribes too, through its form.
    await page.fill("#channel", CHANNEL);
    await page.click("#subscribe-form button");
    await page.waitForFunction((ch) => document.querySelector("#channels")?.textContent.includes(ch), CHANNEL);

    assert.equal(await gatewayRpc("broadcast", { channel: CHANNEL, event: "chat", data: { msg: "hi", n: 1 } }), null);
    await page.waitForFunction(() => window.t.events.length >= 1, null, { timeout: 5000 });
    const got = await page.evaluate(() => window.t.events);
    assert.deepEqual(got, [
      {
        channel: CHANNEL,
        event: "chat",
        data: { msg: "hi", n: 1 },
        frame: { type: "event", event: "chat", data: { msg: "hi", n: 1 }, channel: CHANNEL },
      },
    ]);
    await page.waitForFunction((ch) => document.querySelector("#events").textContent.includes(`${ch}  chat`), CHANNEL);

    // A unicast reaches gw.on handlers, without a channel.
    const socketId = await page.evaluate(() => window.t.gw.socketId);
    assert.equal(await gatewayRpc("unicast", { socket_id: socketId, event: "notice", data: [1, "two"] }), true);
    await page.waitForFunction(() => window.t.frames.some((f) => f.event === "notice"), null, { timeout: 5000 });
    const frames = await page.evaluate(() => window.t.frames);
    assert.deepEqual(frames.at(-1), { type: "event", event: "notice", data: [1, "two"] });
    // The broadcast reached gw.on handlers too (with its channel).
    assert.deepEqual(frames.filter((f) => f.event === "chat"), [
      { type: "event", event: "chat", data: { msg: "hi", n: 1 }, channel: CHANNEL },
    ]);
  });

  it("the demo page calls a method and shows the result", async () => {
    await page.fill("#method", `${SVC}.echo`);
    await page.fill("#kwargs", '{"greeting": "hello from the demo"}');
    await page.click("#call-form button");
    await page.waitForFunction(() => document.querySelector("#result.ok")?.textContent.includes("hello from the demo"));
    const shown = JSON.parse(await page.textContent("#result"));
    assert.deepEqual(shown, { args: [], kwargs: { greeting: "hello from the demo" } });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    await page.fill("#method", `${SVC}.no_such_method`);
    await page.fill("#kwargs", "{}");
    await page.click("#call-form button");
    await page.waitForFunction(() => document.querySelector("#result.err")?.textContent.startsWith("MethodNotFound"));
  });

  it("reconnects by itself after enoki restarts, re-subscribes and sends the calls made offline", async () => {
    // The demo page's own client must come back too (it keeps the default backoff).
    await page.evaluate(() => {
      window.demoReconnected = false;
      window.enokiDemo.on("reconnected", () => {
        window.demoReconnected = true;
      });
    });
    const t0 = Date.now();
    const exit = await stop(enoki);
    log(`enoki stopped after ${Date.now() - t0} ms; its output:\n${enoki.out}`);
    assert.deepEqual(exit, { code: 0, signal: null }, `enoki's exit after SIGTERM:\n${enoki.out}`);
    await page.waitForFunction(() => window.t.gw.status !== "connected", null, { timeout: 5000 });
    // A call made while disconnected waits for the next connection.
    await page.evaluate((svc) => {
      window.t.offline = window.t.gw.call(`${svc}.echo`, { during: "the outage" });
    }, SVC);
    await sleep(300);

    enoki = await startEnoki(); // same config, same port
    log(`enoki ready again after ${Date.now() - t0} ms`);
    await page.waitForFunction(() => window.t.reconnected.length >= 1, null, { timeout: 10000 });
    log(`test client reconnected after ${Date.now() - t0} ms`);
    await page.waitForFunction(() => window.demoReconnected, null, { timeout: 15000 });
    log(`demo page reconnected after ${Date.now() - t0} ms`);
    const state = await page.evaluate(async () => {
      const { t } = window;
      return {
        reconnected: t.reconnected,
        socketId: t.gw.socketId,
        status: t.gw.status,
        statuses: t.statuses,
        offline: await t.offline,
        hub: await t.gw.call("get_subscriptions", {}),
      };
    });
    assert.equal(state.status, "connected");
    assert.match(state.socketId, UUID4);
    assert.notEqual(state.socketId, firstSocketId);
    assert.deepEqual(state.reconnected, [{ socketId: state.socketId, previousSocketId: firstSocketId }]);
    assert.deepEqual(state.statuses.slice(0, 3), ["connecting", "connected", "reconnecting"]);
    assert.equal(state.statuses.at(-1), "connected");
    assert.deepEqual(state.offline, { args: [], kwargs: { during: "the outage" } });
    assert.deepEqual(state.hub, [CHANNEL2, CHANNEL].sort());

    // Re-subscribed: a second broadcast arrives.
    assert.equal(await gatewayRpc("broadcast", { channel: CHANNEL, event: "chat", data: { msg: "again", n: 2 } }), null);
    await page.waitForFunction(() => window.t.events.length >= 2, null, { timeout: 5000 });
    const second = await page.evaluate(() => window.t.events[1]);
    assert.deepEqual(second.data, { msg: "again", n: 2 });
    assert.equal(second.event, "chat");

    // Calls work again.
    const result = await page.evaluate((svc) => window.t.gw.call(`${svc}.echo`, { after: "restart" }), SVC);
    assert.deepEqual(result, { args: [], kwargs: { after: "restart" } });

    // The demo page came back too, with its channel.
    assert.equal(await page.textContent("#status b"), "connected");
    await page.waitForFunction((ch) => document.querySelector("#events").textContent.includes('"again"'), CHANNEL, {
      timeout: 5000,
    });
    await page.fill("#method", `${SVC}.echo`);
    await page.fill("#kwargs", '{"greeting": "hello after the restart"}');
    await page.click("#call-form button");
    await page.waitForFunction(() =>
      document.querySelector("#result.ok")?.textContent.includes("hello after the restart"),
    );
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  it("unsubscribes", async () => {
    const hub = await page.evaluate(async (ch) => {
      await window.t.gw.unsubscribe(ch);
      return window.t.gw.call("get_subscriptions", {});
    }, CHANNEL2);
    assert.deepEqual(hub, [CHANNEL]);
    // The second broadcast is published once the first is answered: a frame of the first would
    // come before the marker.
    await gatewayRpc("broadcast", { channel: CHANNEL2, event: "lost", data: null });
    await gatewayRpc("broadcast", { channel: CHANNEL, event: "marker", data: 3 });
    await page.waitForFunction(() => window.t.events.some((e) => e.event === "marker"), null, { timeout: 5000 });
    const events = await page.evaluate(() => window.t.events.map((e) => e.event));
    assert.deepEqual(events, ["chat", "chat", "marker"]);
  });

  it("subscribe, unsubscribe and subscribe again, all at once, ends subscribed", async () => {
    // As a component mounted, unmounted and mounted again does (React's StrictMode): the second
    // subscribe is sent after the unsubscribe, not folded into the first.
    const channel = `room-again-${RUN}`;
    const hub = await page.evaluate(async (ch) => {
      const { t } = window;
      const first = t.gw.subscribe(ch, () => {});
      const off = t.gw.unsubscribe(ch);
      const second = t.gw.subscribe(ch, (event, data) => t.events.push({ channel: ch, event, data }));
      await Promise.all([first, off, second]);
      return { local: t.gw.channels(), hub: await t.gw.call("get_subscriptions", {}) };
    }, channel);
    assert.ok(hub.local.includes(channel), JSON.stringify(hub));
    assert.ok(hub.hub.includes(channel), JSON.stringify(hub));
    await gatewayRpc("broadcast", { channel, event: "again", data: 1 });
    await page.waitForFunction(() => window.t.events.some((e) => e.event === "again"), null, { timeout: 5000 });
    await page.evaluate((ch) => window.t.gw.unsubscribe(ch), channel);
  });

  it("close() stops the client and rejects later calls", async () => {
    const out = await page.evaluate(async (svc) => {
      const { t } = window;
      t.gw.close();
      const err = await t.gw.call(`${svc}.echo`, {}).catch((e) => e);
      return { status: t.gw.status, excType: err.excType };
    }, SVC);
    assert.deepEqual(out, { status: "closed", excType: "Closed" });
    assert.deepEqual(pageErrors, []);
  });
});

// HS256 tokens (RFC 7519) signed here with node's crypto: the page asks for them through
// page.exposeFunction, as a real page would ask its identity provider.
const JWT_SECRET = randomBytes(32).toString("hex");
let minted = 0;
const mintedSignatures = []; // never in enoki's output: the access_token is never logged

function mintToken({ sub = "e2e-user", ttl = 3, secret = JWT_SECRET } = {}) {
  const b64url = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const jti = `t${++minted}`;
  const signingInput = `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url({ sub, jti, iat: now, exp: now + ttl })}`;
  const signature = createHmac("sha256", secret).update(signingInput).digest("base64url");
  mintedSignatures.push(signature);
  return { token: `${signingInput}.${signature}`, jti, exp: now + ttl };
}

// A page of enoki's origin (any page there can import the module) with window.mintToken and
// window.a: the module, and a WebSocket that records the URLs it opens and the methods it sends.
async function tokenPage(context, origin, pageErrors) {
  const page = await context.newPage();
  page.on("pageerror", (err) => pageErrors.push(String(err)));
  await page.exposeFunction("mintToken", (options) => mintToken(options));
  const resp = await page.goto(`${origin}/static/enoki.js`);
  assert.equal(resp.status(), 200);
  await page.evaluate(async () => {
    const mod = await import("/static/enoki.js");
    const urls = [];
    const sent = [];
    class RecordingWebSocket extends WebSocket {
      constructor(url, protocols) {
        super(url, protocols);
        urls.push(url);
      }
      send(text) {
        sent.push(JSON.parse(text).method);
        super.send(text);
      }
    }
    window.a = { mod, urls, sent, RecordingWebSocket, clients: [] };
  });
  return page;
}

describe("enoki.js with a token (GATEWAY.auth.websocket: required)", { timeout: 60000 }, () => {
  let g;
  let context;
  let enoki;
  let page;
  let authPort;
  const pageErrors = [];

  before(async () => {
    g = await startGateway("enoki-e2e-auth-", GWNAME_AUTH, [
      "  rpc_timeout: 10",
      `  expose: ["${SVC}.*"]`,
      "  auth:",
      "    websocket: required",
      "    claims: {sub: user_id, jti: token_id}",
      "    jwt:",
      "      algorithms: [HS256]",
      `      secret: "${JWT_SECRET}"`,
      "      leeway: 0",
    ]);
    ({ context, enoki, port: authPort } = g);
    page = await tokenPage(context, g.base, pageErrors);
  });

  after(() => stopGateway(g));

  let firstSocketId;

  it("connects with a token function, calls, and is refreshed before expiry on the same socket", async () => {
    const started = await page.evaluate(async (svc) => {
      const { a } = window;
      const t = (a.t = { tokens: [], errors: [], disconnected: [], statuses: [] });
      t.gw = await a.mod.connect("/ws", {
        WebSocket: a.RecordingWebSocket,
        minDelay: 100,
        maxDelay: 1000,
        token: async () => {
          const minted = await window.mintToken({ ttl: 3 });
          t.tokens.push(minted);
          return minted.token;
        },
        onStatus: (status) => t.statuses.push(status),
      });
      a.clients.push(t.gw);
      t.gw.on("error", (e) => t.errors.push(e.message));
      t.gw.on("disconnected", (info) => t.disconnected.push(info));
      return {
        socketId: t.gw.socketId,
        url: t.gw.url,
        lastUrl: a.urls.at(-1),
        token: t.tokens[0],
        context: await t.gw.call(`${svc}.context`, {}),
      };
    }, SVC);
    assert.match(started.socketId, UUID4);
    assert.equal(started.url, `ws://127.0.0.1:${authPort}/ws`); // the token is not shown
    assert.equal(new URL(started.lastUrl).searchParams.get("access_token"), started.token.token);
    assert.equal(started.context.user_id, "e2e-user");
    assert.equal(started.context.token_id, started.token.jti);
    firstSocketId = started.socketId;

    // More than two lifetimes of a 3 s token, a call every second, on the one socket.
    const until = (started.token.exp + 4) * 1000;
    const seen = [];
    while (Date.now() < until) {
      await sleep(1000);
      seen.push(
        await page.evaluate(async (svc) => {
          const { t } = window.a;
          const ctx = await t.gw.call(`${svc}.context`, {});
          return { socketId: t.gw.socketId, status: t.gw.status, tokenId: ctx.token_id };
        }, SVC),
      );
    }
    const end = await page.evaluate(() => {
      const { a } = window;
      return { ...a.t, gw: undefined, sent: [...a.sent] };
    });
    log("token refresh:", JSON.stringify({ seen, tokens: end.tokens }));
    assert.deepEqual(end.errors, []);
    assert.deepEqual(end.disconnected, []);
    assert.deepEqual(end.statuses, ["connecting", "connected"]);
    for (const s of seen) assert.deepEqual([s.socketId, s.status], [firstSocketId, "connected"]);
    assert.ok(end.tokens.length > 2, `token() called at connect and per refresh, got ${end.tokens.length}`);
    assert.ok(end.sent.filter((m) => m === "refresh").length >= end.tokens.length - 1);
    // The socket now carries a refreshed token's claims, and outlived the first token by a lifetime.
    assert.notEqual(seen.at(-1).tokenId, started.token.jti);
    assert.ok(end.tokens.map((t) => t.jti).includes(seen.at(-1).tokenId));
    assert.ok(Date.now() / 1000 > started.token.exp + 3);
  });

  it("a refused refresh reports an error; the 1008 'token expired' close reconnects with a fresh token", async () => {
    const out = await page.evaluate(async (svc) => {
      const { a } = window;
      const r = (a.r = { tokens: 0, errors: [], disconnected: [], reconnected: [] });
      // 1: the socket's token; 2: another user's (refused: Forbidden); then the user's own again.
      r.gw = await a.mod.connect("/ws", {
        WebSocket: a.RecordingWebSocket,
        minDelay: 100,
        maxDelay: 1000,
        token: async () => {
          r.tokens += 1;
          const sub = r.tokens === 2 ? "someone-else" : "e2e-user";
          return (await window.mintToken({ sub, ttl: r.tokens === 1 ? 3 : 60 })).token;
        },
      });
      a.clients.push(r.gw);
      r.gw.on("error", (e) => r.errors.push(e.message));
      r.gw.on("disconnected", (info) => r.disconnected.push(info));
      r.gw.on("reconnected", (info) => r.reconnected.push(info));
      const first = r.gw.socketId;
      const deadline = Date.now() + 8000;
      while (r.reconnected.length === 0 && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 100));
      const ctx = await r.gw.call(`${svc}.context`, {});
      return { first, socketId: r.gw.socketId, ...r, gw: undefined, userId: ctx.user_id };
    }, SVC);
    assert.equal(out.errors.length, 1, JSON.stringify(out.errors));
    assert.match(out.errors[0], /^could not refresh the token: Forbidden/);
    assert.deepEqual(out.disconnected, [{ code: 1008, reason: "token expired" }]);
    assert.match(out.socketId, UUID4);
    assert.notEqual(out.socketId, out.first);
    assert.deepEqual(out.reconnected, [{ socketId: out.socketId, previousSocketId: out.first }]);
    assert.equal(out.tokens, 3);
    assert.equal(out.userId, "e2e-user");
  });

  it("a string token's expiry: the client says so and closes, rather than retry for ever", async () => {
    const out = await page.evaluate(async () => {
      const { a } = window;
      const s = { errors: [], disconnected: [] };
      const token = (await window.mintToken({ ttl: 2 })).token;
      const gw = await a.mod.connect("/ws", { WebSocket: a.RecordingWebSocket, minDelay: 100, maxDelay: 500, token });
      gw.on("error", (e) => s.errors.push(e.message));
      gw.on("disconnected", (info) => s.disconnected.push(info));
      const deadline = Date.now() + 8000;
      while (gw.status !== "closed" && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 100));
      return { ...s, status: gw.status };
    });
    assert.equal(out.status, "closed");
    assert.deepEqual(out.disconnected, [{ code: 1008, reason: "token expired" }]);
    assert.deepEqual(out.errors, ["the token has expired, and a string token cannot be renewed: give a token function"]);
  });

  it("close() stops the token clients", async () => {
    const statuses = await page.evaluate(() => window.a.clients.map((gw) => (gw.close(), gw.status)));
    assert.deepEqual(statuses, ["closed", "closed"]);
    assert.deepEqual(pageErrors, []);
  });

  // Last, on a page of its own: Chromium delays a page's websocket connects (by seconds) once
  // many of its handshakes have failed.
  it("a token that does not verify, or none, is refused: connect() retries, then rejects", async () => {
    const refusedPage = await tokenPage(context, `http://127.0.0.1:${authPort}`, pageErrors);
    const out = await refusedPage.evaluate(async () => {
      const { a } = window;
      const attempt = async (token) => {
        const seen = { calls: 0, statuses: [] };
        const err = await a.mod
          .connect("/ws", {
            WebSocket: a.RecordingWebSocket,
            connectTimeout: 2000,
            minDelay: 100,
            maxDelay: 400,
            token: async () => {
              seen.calls += 1;
              return token === "bad" ? (await window.mintToken({ secret: "not the gateway's secret" })).token : null;
            },
            onStatus: (status) => seen.statuses.push(status),
          })
          .then(
            () => null,
            (e) => e,
          );
        return { ...seen, excType: err?.excType, message: err?.message };
      };
      const [bad, none] = await Promise.all([attempt("bad"), attempt(null)]);
      return { bad, none, urls: [...a.urls] };
    });
    for (const [name, seen] of Object.entries({ bad: out.bad, none: out.none })) {
      assert.equal(seen.excType, "Timeout", `${name}: ${seen.message}`);
      assert.ok(seen.calls >= 2, `${name}: token() called at every attempt, got ${seen.calls}`);
      assert.deepEqual([...new Set(seen.statuses)], ["connecting", "closed"], name);
    }
    // Every attempt opened a socket with the token in its query, or without any query when none;
    // the timeout may fall between the last token() and its socket.
    const base = `ws://127.0.0.1:${authPort}/ws`;
    const withToken = out.urls.filter((u) => u !== base);
    assert.ok(withToken.length >= out.bad.calls - 1 && withToken.length <= out.bad.calls, out.urls.join(" "));
    assert.equal(out.urls.length - withToken.length, out.none.calls);
    for (const url of withToken) {
      assert.match(new URL(url).searchParams.get("access_token"), /^[\w-]+\.[\w-]+\.[\w-]+$/);
    }
    await refusedPage.close();
    assert.deepEqual(pageErrors, []);
    assert.ok(mintedSignatures.length > 10);
    const logged = mintedSignatures.filter((signature) => enoki.out.includes(signature));
    assert.deepEqual(logged, [], "tokens in enoki's output");
  });
});
