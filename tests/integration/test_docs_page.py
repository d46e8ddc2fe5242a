"""Issue 18, point 2: GATEWAY.docs_path serves a page that shows GATEWAY.openapi_path's document
with the viewer `make viewer` installs (swagger-ui-dist from npm, pinned in docs/viewer) into
GATEWAY.docs_dir. The page and its script are enoki's; the viewer's files come from docs_dir; the
page's Content-Security-Policy keeps every script and style on enoki's origin. The page rendering
the document in Chromium is tests/e2e's."""

import shutil

import pytest

from conftest import REPO, SVC, Enoki, config_text, free_port, route, run_enoki

VIEWER = REPO / "build" / "viewer"


@pytest.fixture(scope="module")
def docs(peer, tmp_path_factory):
    assert (VIEWER / "swagger-ui-bundle.js").exists(), "make viewer builds build/viewer"
    tmp = tmp_path_factory.mktemp("docs")
    g = Enoki(tmp, routes=[route("/echo", SVC + ".echo")], ready_path="/echo",
              gateway={"openapi_path": "/api/openapi.json", "docs_path": "/api/docs",
                       "docs_dir": str(VIEWER)})
    yield g
    g.stop()


def test_the_page_loads_the_viewer_on_the_document(docs):
    r = docs.get("/api/docs")
    assert r.status == 200, r
    assert r.header("Content-Type") == "text/html; charset=utf-8", r.headers
    html = r.body.decode()
    assert 'data-url="/api/openapi.json"' in html, html
    for src in ('href="/api/docs/swagger-ui.css"', 'src="/api/docs/swagger-ui-bundle.js"',
                'src="/api/docs/enoki-docs.js"'):
        assert src in html, (src, html)
    assert "//" not in html, html  # nothing from another origin
    csp = r.header("Content-Security-Policy")
    assert csp and "default-src 'self'" in csp and "script-src" not in csp, csp
    # The same page with a trailing slash; HEAD has the head alone.
    assert docs.get("/api/docs/").body == r.body
    h = docs.request("HEAD", "/api/docs")
    assert h.status == 200 and h.body == b"" and h.header("Content-Length") == str(len(r.body))


def test_the_viewer_files_are_the_installed_ones(docs):
    for name, media in (("swagger-ui-bundle.js", "application/javascript; charset=utf-8"),
                        ("swagger-ui.css", "text/css; charset=utf-8")):
        r = docs.get("/api/docs/" + name)
        assert r.status == 200 and r.header("Content-Type") == media, (name, r.headers)
        assert r.body == (VIEWER / name).read_bytes()
        assert r.header("ETag"), r.headers
        again = docs.get("/api/docs/" + name, headers={"If-None-Match": r.header("ETag")})
        assert again.status == 304, again
    script = docs.get("/api/docs/enoki-docs.js")
    assert script.status == 200, script
    text = script.body.decode()
    assert "SwaggerUIBundle(" in text and "validatorUrl: null" in text, text


@pytest.mark.parametrize("path", ["/api/docs/LICENSE", "/api/docs/../docs", "/api/docs/x.js",
                                  "/api/docs/swagger-ui-bundle.js/x", "/api/docs/%2e%2e/etc"])
def test_nothing_else_under_the_page(docs, path):
    r = docs.get(path)
    assert r.status == 404, (path, r)


def test_only_get_and_head(docs):
    r = docs.request("POST", "/api/docs", body=b"")
    assert r.status == 405 and r.header("Allow") == "GET, HEAD", r
    assert docs.get("/api/docsx").status == 404


def test_off_unless_set(gw):
    assert gw.get("/docs").status == 404


def check(tmp_path, gateway):
    path = tmp_path / "c.yaml"
    path.write_text(config_text([], port=free_port(), gateway=gateway))
    return run_enoki("--config", str(path), "--check")


def test_config_errors_name_the_problem(tmp_path):
    out = check(tmp_path, {"docs_path": "/docs", "docs_dir": str(VIEWER)})
    assert out.returncode == 2 and "GATEWAY.docs_path" in out.stderr and \
        "GATEWAY.openapi_path" in out.stderr, out.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    out = check(tmp_path, {"docs_path": "/docs", "openapi_path": "/o.json", "docs_dir": str(empty)})
    assert out.returncode == 2 and "GATEWAY.docs_dir" in out.stderr and \
        "swagger-ui-bundle.js" in out.stderr and "make viewer" in out.stderr, out.stderr
    out = check(tmp_path, {"docs_path": "/docs", "openapi_path": "/docs", "docs_dir": str(VIEWER)})
    assert out.returncode == 2 and "GATEWAY.openapi_path" in out.stderr, out.stderr
    ok = check(tmp_path, {"docs_path": "/docs", "openapi_path": "/o.json", "docs_dir": str(VIEWER)})
    assert ok.returncode == 0, ok.stderr


def test_a_route_the_page_would_hide_is_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(config_text([route("/docs", SVC + ".echo")], port=free_port(),
                                gateway={"docs_path": "/docs", "openapi_path": "/o.json",
                                         "docs_dir": str(VIEWER)}))
    out = run_enoki("--config", str(path), "--check")
    assert out.returncode == 2 and "collides with enoki's own /docs" in out.stderr, out.stderr


def test_a_viewer_removed_after_start_is_a_404_not_a_crash(peer, tmp_path):
    viewer = tmp_path / "viewer"
    shutil.copytree(VIEWER, viewer)
    g = Enoki(tmp_path, routes=[route("/echo", SVC + ".echo")], ready_path="/echo",
              gateway={"openapi_path": "/openapi.json", "docs_path": "/docs",
                       "docs_dir": str(viewer)})
    try:
        shutil.rmtree(viewer)
        assert g.get("/docs/swagger-ui.css").status == 404
        assert g.get("/docs").status == 200
        assert g.get("/healthz").status == 200
    finally:
        g.stop()
