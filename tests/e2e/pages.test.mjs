// The pages enoki serves to people, in Debian's Chromium against the real binary and broker: the docs
// page (GATEWAY.docs_path: the OpenAPI document in swagger-ui, "try it out" calling enoki) and the
// status page (GATEWAY.status_path: live numbers under a small load). Neither may load anything from
// another origin.
//
// With ENOKI_SCREENSHOTS=<dir>, the screenshots the README shows are written there
// (scripts/screenshots.sh keeps docs/img up to date that way).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO, RUN, SVC, sleep, startGateway, stopGateway } from "./harness.mjs";

const GWNAME = `gwpages${RUN}`;
const SHOTS = process.env.ENOKI_SCREENSHOTS;

describe("the docs page (GATEWAY.docs_path)", { timeout: 90000 }, () => {
  let g;
  let base;
  const foreign = []; // requests to anything but enoki
  const pageErrors = [];

  before(async () => {
    g = await startGateway("enoki-pages-", GWNAME, [
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
    ]);
    base = g.base;
    g.context.on("request", (req) => {
      const url = new URL(req.url());
      if (url.origin !== base && url.protocol !== "data:") foreign.push(req.url());
    });
  });

  after(() => stopGateway(g));

  it("the docs page renders every operation and tries one out against enoki", async () => {
    const page = await g.context.newPage();
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

// The live status page (docs/status.md) behind GATEWAY.admin_token: the sign-in form keeps the
// token in the page's cookie, then the page polls <status_path>/data and shows a route's numbers
// moving under a small load, with its charts, and asks nothing of any other origin.
describe("the status page (GATEWAY.status_path)", { timeout: 60000 }, () => {
  const ADMIN_TOKEN = `e2e-status-${RUN}`;
  let g;
  let statusPort;
  const requested = [];
  const pageErrors = [];

  before(async () => {
    g = await startGateway("enoki-e2e-status-", `${GWNAME}status`, [
      `  expose: ["${SVC}.*"]`,
      "  status_path: /status",
      `  static_dir: "${join(REPO, "static")}"`,
      `  admin_token: "${ADMIN_TOKEN}"`,
      "routes:",
      `  - {rule: /echo, rpc: ${SVC}.echo}`,
      `  - {rule: /fail, rpc: ${SVC}.fail}`,
    ]);
    statusPort = g.port;
    g.context.on("request", (req) => requested.push(req.url()));
  });

  after(() => stopGateway(g));

  it("signs in, then shows live numbers changing under a small load", async () => {
    const page = g.context.pages()[0] ?? (await g.context.newPage());
    page.on("pageerror", (err) => pageErrors.push(String(err)));
    const base = `http://127.0.0.1:${statusPort}`;
    const first = await page.goto(`${base}/status`);
    assert.equal(first.status(), 401);
    await page.fill("#token", ADMIN_TOKEN);
    await Promise.all([page.waitForNavigation(), page.click("button")]);
    await page.waitForFunction(() => Number(document.body.dataset.polled || 0) >= 1, null, { timeout: 10000 });
    assert.equal(await page.textContent("#broker-state"), "connected");
    assert.match(await page.textContent("#generation"), /^generation \d+$/);
    const cell = (name) =>
      page.evaluate((n) => document.querySelector(`#routes tr[data-key="GET /echo"] .${n}`)?.textContent, name);
    const before = Number((await cell("requests")) ?? "0");

    // A small load: 30 calls and 3 failures, spread over a second.
    for (let i = 0; i < 10; i++) {
      await Promise.all([1, 2, 3].map(() => fetch(`${base}/echo?i=${i}`).then((r) => r.text())));
      await sleep(100);
    }
    for (let i = 0; i < 3; i++) await fetch(`${base}/fail`).then((r) => r.text());

    await page.waitForFunction(
      (want) => {
        const row = document.querySelector('#routes tr[data-key="GET /echo"]');
        return row && Number(row.querySelector(".requests").textContent.replace(/,/g, "")) >= want;
      },
      before + 30,
      { timeout: 10000 },
    );
    assert.ok(Number(await cell("rate")) > 0, `rate ${await cell("rate")}`);
    assert.notEqual(await cell("p50"), "–");
    // The failures came after the echoes: the poll that showed the echoes may predate them.
    const failErrors = () =>
      page.evaluate(() => document.querySelector('#routes tr[data-key="GET /fail"] .errors')?.textContent);
    await page
      .waitForFunction(
        () => /^3 /.test(document.querySelector('#routes tr[data-key="GET /fail"] .errors')?.textContent ?? ""),
        null,
        { timeout: 10000 },
      )
      .catch(() => {}); // the assertion below says what the page showed
    assert.match((await failErrors()) ?? "", /^3 \(100(\.0)?%\)$/);
    // The charts: canvases drawn by the page itself, a sparkline per route.
    const drawn = await page.evaluate(() => {
      const c = document.getElementById("chart-http");
      const pixels = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let inked = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i]) inked++;
      return { inked, sparks: document.querySelectorAll("#routes svg.spark polyline").length };
    });
    assert.ok(drawn.inked > 100, `chart pixels: ${drawn.inked}`);
    assert.ok(drawn.sparks >= 2);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, "status-page.png"), fullPage: false });
    // The search box asks enoki for the rest.
    await page.fill("#search", "fail");
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll("#routes tbody tr")].map((r) => r.dataset.key);
      return rows.length === 1 && rows[0] === "GET /fail";
    }, null, { timeout: 10000 });

    const foreign = requested.filter((url) => new URL(url).origin !== base);
    assert.deepEqual(foreign, [], "requests to another origin");
    assert.ok(requested.some((url) => url.startsWith(`${base}/status/data`)));
    assert.deepEqual(pageErrors, []);
  });
});
