// The pages enoki serves to people, in Debian's Chromium against the real binary and broker: the docs
// page (GATEWAY.docs_path: the OpenAPI document in swagger-ui, "try it out" calling enoki) and the
// status page (GATEWAY.status_path: live numbers under a small load). Neither may load anything from
// another origin.
//
// With ENOKI_SCREENSHOTS=<dir>, the screenshots the README shows are written there
// (scripts/screenshots.sh keeps docs/img up to date that way).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  AMQP_URI, EXCHANGE, REPO, RUN, SVC, cleanupBroker, freePort, launchChromium, preflight, startEnoki,
  startPeer, stop, ENOKI_BIN,
} from "./harness.mjs";

const GWNAME = `gwpages${RUN}`;
const SHOTS = process.env.ENOKI_SCREENSHOTS;

describe("the docs and status pages in Chromium", { timeout: 90000 }, () => {
  let tmp;
  let peer;
  let enoki;
  let context;
  let base;
  const foreign = []; // requests to anything but enoki
  const pageErrors = [];

  before(async () => {
    await preflight();
    tmp = mkdtempSync(join(tmpdir(), "enoki-pages-"));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const config = join(tmp, "gateway.yaml");
    writeFileSync(
      config,
      [
        `AMQP_URI: "${AMQP_URI}"`,
        `WEB_SERVER_ADDRESS: "127.0.0.1:${port}"`,
        `rpc_exchange: "${EXCHANGE}"`,
        "GATEWAY:",
        `  name: "${GWNAME}"`,
        `  expose: ["${SVC}.*"]`,
        "  openapi_path: /openapi.json",
        "  docs_path: /docs",
        `  docs_dir: "${join(REPO, "build", "viewer")}"`,
        "routes:",
        "  - rule: /items/<int(min=1):value>",
        `    rpc: ${SVC}.get_method`,
        "    summary: One item",
        "    tags: [items]",
        "  - rule: /echo",
        "    methods: GET,POST",
        `    rpc: ${SVC}.echo`,
        "    summary: Echo the arguments",
        "    tags: [items]",
        "",
      ].join("\n"),
    );
    peer = await startPeer();
    enoki = await startEnoki(ENOKI_BIN, config, port);
    context = await launchChromium(join(tmp, "chromium-profile"));
    context.on("request", (req) => {
      const url = new URL(req.url());
      if (url.origin !== base && url.protocol !== "data:") foreign.push(req.url());
    });
  });

  after(async () => {
    await context?.close().catch(() => {});
    await stop(enoki);
    await stop(peer);
    await cleanupBroker(GWNAME);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("the docs page renders every operation and tries one out against enoki", async () => {
    const page = await context.newPage();
    page.on("pageerror", (err) => pageErrors.push(String(err)));
    await page.goto(`${base}/docs`);
    const ops = page.locator(".opblock");
    await ops.first().waitFor({ timeout: 15000 });
    const summaries = await page.locator(".opblock-summary-path").allInnerTexts();
    const paths = summaries.map((t) => t.replace(/\u200b/g, "").trim());
    for (const want of ["/items/{value}", "/echo", `/rpc/{service}/{method}`]) {
      assert.ok(paths.some((p) => p === want || p.endsWith(want)), `no ${want} among ${paths}`);
    }
    // GET /items/{value}: "Try it out", 7, Execute -> the service's answer, through enoki.
    const op = page.locator(".opblock-get").filter({ hasText: "/items/" }).first();
    await op.locator(".opblock-summary").click();
    await op.getByRole("button", { name: "Try it out" }).click();
    await op.locator('input[placeholder="value"], tr[data-param-name="value"] input').first().fill("7");
    await op.getByRole("button", { name: "Execute" }).click();
    const body = op.locator(".live-responses-table .response-col_description pre").first();
    await body.waitFor({ timeout: 15000 });
    const text = await body.innerText();
    assert.deepEqual(JSON.parse(text), { value: 7 }, text);
    const status = await op.locator(".live-responses-table tr.response .response-col_status").first().innerText();
    assert.equal(status.trim(), "200");
    if (SHOTS) await page.screenshot({ path: join(SHOTS, "docs-page.png"), fullPage: false });
    assert.deepEqual(foreign, [], "the docs page loaded something from another origin");
    assert.deepEqual(pageErrors, []);
    await page.close();
  });
});
