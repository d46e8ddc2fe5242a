// The browser tests' harness: the broker, the nameko-wire test peer, enoki and Debian's Chromium,
// shared by browser.test.mjs (enoki.js and the demo page) and pages.test.mjs (the docs and status
// pages). Each test file is its own process, with its own RUN id: its exchange, service and gateway
// names are its own, and its cleanup deletes only what it made.

import { spawn, execFile } from "node:child_process";
import { accessSync, chmodSync, constants, copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const ENOKI_BIN = resolve(REPO, process.env.ENOKI_BIN || "build/enoki");
export const AMQP_URI = process.env.ENOKI_TEST_AMQP_URI || "amqp://guest:guest@127.0.0.1:5672/";
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
export const PYTHON = "/usr/bin/python3";

export const RUN = randomBytes(4).toString("hex");
export const EXCHANGE = `enoki-e2e-${RUN}`;
export const SVC = `e2e_${RUN}`;
// A nameko client in a few lines of pika (docs/nameko-wire.md §1-3): "call" publishes one RPC on the test
// exchange (mandatory, confirmed, retried while unroutable) and prints the reply body; "cleanup"
// deletes the queues and exchanges this run made (found with rabbitmqctl: the broker is local).
const HELPER = String.raw`
import json, subprocess, sys, time, uuid
import pika

uri, cmd = sys.argv[1], sys.argv[2]
params = pika.URLParameters(uri)
params.heartbeat = 0
params.connection_attempts = 1
conn = pika.BlockingConnection(params)
ch = conn.channel()

if cmd == "call":
    exchange, routing_key, kwargs = sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
    ch.confirm_delivery()
    key = str(uuid.uuid4())
    queue = ch.queue_declare("", exclusive=True, auto_delete=True).method.queue
    ch.queue_bind(queue, exchange, routing_key=key)
    corr = str(uuid.uuid4())
    props = pika.BasicProperties(
        content_type="application/json", content_encoding="utf-8",
        headers={"nameko.call_id_stack": ["enoki_e2e." + corr]},
        delivery_mode=2, priority=0, correlation_id=corr, reply_to=key)
    body = json.dumps({"args": [], "kwargs": kwargs}).encode("utf-8")
    # enoki binds its queue once its AMQP connection is up, which may come a moment after HTTP.
    unroutable_until = time.monotonic() + 3
    while True:
        try:
            ch.basic_publish(exchange, routing_key, body, props, mandatory=True)
            break
        except pika.exceptions.UnroutableError:
            if time.monotonic() > unroutable_until:
                print(json.dumps({"helper_error": "unroutable (no queue bound): " + routing_key}))
                sys.exit(0)
            time.sleep(0.1)
    deadline = time.monotonic() + 10
    for method, p, b in ch.consume(queue, auto_ack=True, inactivity_timeout=max(0.1, deadline - time.monotonic())):
        if method is None:
            print(json.dumps({"helper_error": "no reply from " + routing_key}))
            break
        if p.correlation_id == corr:
            print(b.decode("utf-8"))
            break
    ch.cancel()
elif cmd == "cleanup":
    wanted = json.loads(sys.argv[3])
    def ours(name):
        return name in wanted["exact"] or any(part in name for part in wanted["contains"])
    def names(what):
        out = subprocess.run(["rabbitmqctl", "-q", what, "name", "--formatter", "json"],
                             capture_output=True, text=True, timeout=20)
        return [row["name"] for row in json.loads(out.stdout or "[]")] if out.returncode == 0 else []
    gone = []
    for kind, listing in (("queue", "list_queues"), ("exchange", "list_exchanges")):
        for name in names(listing):
            if not ours(name):
                continue
            if ch.is_closed:
                ch = conn.channel()
            try:
                (ch.queue_delete if kind == "queue" else ch.exchange_delete)(name)
                gone.append(kind + " " + name)
            except Exception as exc:
                gone.append(kind + " " + name + " (failed: " + str(exc) + ")")
    print(json.dumps(gone))
conn.close()
`;

export function runHelper(...args) {
  return new Promise((resolvePromise, reject) => {
    execFile(PYTHON, ["-c", HELPER, AMQP_URI, ...args], { timeout: 30000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`helper ${args[0]} failed: ${err.message}\n${stderr}`));
      else resolvePromise(JSON.parse(stdout));
    });
  });
}

export const log = (...args) => {
  if (process.env.ENOKI_E2E_VERBOSE) console.log("#", ...args);
};
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A port for enoki from the tests' shared chooser (tests/integration/ports.py): below the kernel's
// ephemeral range, where no outgoing connection takes it before enoki binds it, and reserved from
// the other test processes.
export function freePort() {
  return new Promise((resolvePromise, reject) => {
    execFile(PYTHON, [join(REPO, "tests/integration/ports.py"), "1"], { timeout: 30000 }, (err, stdout) => {
      const port = Number.parseInt(stdout, 10);
      if (err || !Number.isInteger(port)) reject(err || new Error(`ports.py printed ${JSON.stringify(stdout)}`));
      else resolvePromise(port);
    });
  });
}

export function tcpOpen(host, port) {
  return new Promise((resolvePromise) => {
    const sock = tcpConnect({ host, port });
    sock.setTimeout(2000);
    sock.on("connect", () => {
      sock.destroy();
      resolvePromise(true);
    });
    sock.on("error", () => resolvePromise(false));
    sock.on("timeout", () => {
      sock.destroy();
      resolvePromise(false);
    });
  });
}

// A child process whose output is kept (bounded) for the failure messages.
export function start(cmd, args, name) {
  const child = spawn(cmd, args, { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
  const proc = { child, name, out: "", exited: null };
  const keep = (chunk) => {
    proc.out = (proc.out + chunk.toString()).slice(-20000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  proc.exited = new Promise((r) => child.on("exit", (code, signal) => r({ code, signal })));
  child.on("exit", () => {
    proc.done = true;
  });
  return proc;
}

export async function stop(proc, ms = 15000) {
  if (!proc || proc.done) return proc ? proc.exited : null;
  proc.child.kill("SIGTERM");
  const timer = setTimeout(() => proc.child.kill("SIGKILL"), ms);
  const result = await proc.exited;
  clearTimeout(timer);
  return result;
}

export async function startPeer() {
  const proc = start(PYTHON, ["tests/peer/nameko_peer.py", "--amqp-uri", AMQP_URI, "--exchange", EXCHANGE,
    "--service", SVC], "peer");
  const deadline = Date.now() + 15000;
  while (!/^ready$/m.test(proc.out)) {
    if (proc.done || Date.now() > deadline) throw new Error(`the peer did not start:\n${proc.out}`);
    await sleep(50);
  }
  return proc;
}

// enoki listens before its AMQP connection is up: ready once the generic route answers a call.
export async function startEnoki(bin, config, httpPort) {
  const proc = start(bin, ["--config", config], "enoki");
  const deadline = Date.now() + 15000;
  let last = "";
  for (;;) {
    if (proc.done) throw new Error(`enoki exited before it was ready:\n${proc.out}`);
    if (Date.now() > deadline) {
      await stop(proc);
      throw new Error(`enoki was not ready within 15 s (last answer: ${last}):\n${proc.out}`);
    }
    try {
      const resp = await fetch(`http://127.0.0.1:${httpPort}/rpc/${SVC}/echo`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ kwargs: { ready: true } }),
        signal: AbortSignal.timeout(2000),
      });
      last = `${resp.status} ${await resp.text()}`;
      if (resp.status === 200) return proc;
    } catch (err) {
      last = String(err.cause?.code ?? err.message);
    }
    await sleep(50);
  }
}

export function launchChromium(profileDir) {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1000, height: 820 },
  });
}

// Only what this run made: its exchange, its service's queue, and its gateways' queues and exchanges
// (rpc-<name>, rpc.reply-<name>-*, <name>.hub, ...).
export async function cleanupBroker(gatewayName) {
  const ours = { exact: [EXCHANGE, `rpc-${SVC}`], contains: [gatewayName] };
  const gone = await runHelper("cleanup", JSON.stringify(ours)).catch((err) => [String(err)]);
  log("cleanup:", gone);
}

export async function preflight() {
  accessSync(ENOKI_BIN, constants.X_OK);
  accessSync(CHROMIUM, constants.X_OK);
  const broker = new URL(AMQP_URI);
  if (!(await tcpOpen(broker.hostname || "127.0.0.1", Number(broker.port) || 5672))) {
    throw new Error(`no broker at ${AMQP_URI}: start one with scripts/broker.sh`);
  }
}

// A gateway of a test's own: a copy of ENOKI_BIN (a rebuild during the run must not change it), a
// config of AMQP_URI, a free port, the test exchange, GATEWAY.name gatewayName and the given lines
// (everything after `name:` under GATEWAY:, and routes), the peer, enoki and a Chromium. stopGateway
// undoes it all and deletes what gatewayName made on the broker.
export async function startGateway(tmpPrefix, gatewayName, lines) {
  await preflight();
  const tmp = mkdtempSync(join(tmpdir(), tmpPrefix));
  const bin = join(tmp, "enoki");
  copyFileSync(ENOKI_BIN, bin);
  chmodSync(bin, 0o755);
  const port = await freePort();
  const config = join(tmp, "gateway.yaml");
  const head = [`AMQP_URI: "${AMQP_URI}"`, `WEB_SERVER_ADDRESS: "127.0.0.1:${port}"`,
    `rpc_exchange: "${EXCHANGE}"`, "GATEWAY:", `  name: "${gatewayName}"`];
  writeFileSync(config, [...head, ...lines, ""].join("\n"));
  const g = { tmp, port, base: `http://127.0.0.1:${port}`, gatewayName };
  try {
    g.peer = await startPeer();
    g.enoki = await startEnoki(bin, config, port);
    g.context = await launchChromium(join(tmp, "chromium-profile"));
  } catch (err) {
    await stopGateway(g);
    throw err;
  }
  return g;
}

export async function stopGateway(g) {
  if (!g) return;
  await g.context?.close().catch(() => {});
  await stop(g.enoki);
  await stop(g.peer);
  await cleanupBroker(g.gatewayName);
  rmSync(g.tmp, { recursive: true, force: true });
}
