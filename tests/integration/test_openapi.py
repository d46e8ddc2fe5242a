"""Issue 18, point 1: GATEWAY.openapi_path serves an OpenAPI 3.1 document generated from the compiled
routes (docs/openapi.md).

The document for the README's example config and for a config with every converter and option is
validated against the official OpenAPI 3.1 JSON Schema by tests/openapi/validate.mjs (Ajv, pinned
in tests/openapi/package-lock.json; `npm ci` runs once, under a lock: conftest.openapi_validator).
Every configured rule is parsed by Debian's werkzeug, the project's oracle for rules, and must
appear as a path with each argument's schema; a SIGHUP changes the document; GET and HEAD only;
no document without the key."""

import json
import re
import shutil
import signal
import subprocess

import pytest

from conftest import GWNAME, REPO, SCALE, SVC, Enoki, openapi_validator, run_enoki, wait_for

VALIDATOR = REPO / "tests" / "openapi"
EXAMPLE = REPO / "examples" / "gateway.yaml"
# No broker is needed for the document: the README's config is pointed at a port nothing listens
# on, so that it declares nothing on the test broker's default vhost.
NO_BROKER = "amqp://guest:guest@127.0.0.1:9/"
SPEC = "/openapi.json"

# Every converter, every argument of each, and every route key the document reads.
FULL_CONFIG = """\
AMQP_URI: amqp://guest:guest@127.0.0.1:9/
WEB_SERVER_ADDRESS: 127.0.0.1:@PORT@
GATEWAY:
  name: {name}
  openapi_path: /openapi.json
  rpc_prefix: /call
  errors: {{ValueError: 422, KeyError: 409, TypeError: 500}}
  auth:
    jwt: {{algorithms: [HS256], secret: not-a-secret}}
  expose:
    - {svc}.*
    - {{pattern: "billing.*", auth: optional}}
    - {{pattern: "admin.*", scopes: ["admin:call"]}}
  services:
    maths: {{protocol: amphora}}
    alerts: {{protocol: amphora, fanout: true}}
routes:
  - {{rule: /, rpc: {svc}.index}}
  - {{rule: "/s/<name>", rpc: {svc}.plain}}
  - {{rule: "/s/<int:number>", rpc: {svc}.plain_number, methods: [GET, PUT]}}
  - {{rule: "/set/{{a}} b%", rpc: {svc}.braces}}
  - {{rule: /head-only, rpc: {svc}.head_only, methods: HEAD}}
  - {{rule: /options-too, rpc: {svc}.options_too, methods: [GET, OPTIONS]}}
  - rule: /pydantic
    rpc: {svc}.pydantic
    methods: [POST]
    request_schema:
      $defs: {{Item: {{type: object, properties: {{name: {{type: string}}, next: {{$ref: "#"}}}}}}}}
      properties: {{item: {{$ref: "#/$defs/Item"}}}}
    response_schema: {{items: {{$ref: "#/$defs/Item"}}, $defs: {{Item: {{type: integer}}}}}}
  - {{rule: "/s/<default(length=3):code>/x", rpc: {svc}.default}}
  - {{rule: "/s/<string(minlength=2, maxlength=8):word>/y", rpc: {svc}.word}}
  - {{rule: "/s/<string(length=4):pin>/z", rpc: {svc}.pin, methods: "GET,POST"}}
  - {{rule: "/i/<int:n>", rpc: {svc}.int, methods: [GET, PUT, DELETE]}}
  - {{rule: "/i/<int(fixed_digits=4):n>/fixed", rpc: {svc}.fixed}}
  - {{rule: "/i/<int(fixed_digits=3, signed=True):n>/signed-fixed", rpc: {svc}.fixed}}
  - {{rule: "/i/<int(min=1, max=99):n>/bounded", rpc: {svc}.bounded}}
  - {{rule: "/i/<int(signed=True):n>/signed", rpc: {svc}.signed}}
  - {{rule: "/i/<int(min=2.5):n>/float-min", rpc: {svc}.float_min}}
  - {{rule: "/f/<float:x>", rpc: {svc}.float}}
  - {{rule: "/f/<float(min=0.5, max=9.5, signed=True):x>/b", rpc: {svc}.float}}
  - {{rule: "/p/<path:rest>", rpc: {svc}.path}}
  - {{rule: "/p/<path:rest>/edit", rpc: {svc}.path, methods: PATCH}}
  - {{rule: "/u/<uuid:id>", rpc: {svc}.uuid}}
  - {{rule: "/a/<any(red, green, 'blue sky', red):colour>", rpc: {svc}.any}}
  - {{rule: "/m/<int:a>-<string(length=2):b>.json", rpc: {svc}.mixed}}
  - {{rule: "/dir/", rpc: {svc}.dir}}
  - rule: /doc
    rpc: {svc}.doc
    methods: POST
    summary: A documented route
    description: Every documentation key at once.
    tags: [documented, example]
    request_schema:
      type: object
      required: [name]
      properties:
        name: {{type: string, minLength: 1}}
        count: {{type: integer, minimum: 0}}
      additionalProperties: false
    response_schema: response.json
  - {{rule: /http/<int:item_id>, rpc: shop.get_item, mode: http, methods: "GET,POST",
     expected_exceptions: [NotFound]}}
  - {{rule: /http-json, rpc: shop.json, mode: http, response_schema: {{type: object}}}}
  - {{rule: /me, rpc: accounts.me, auth: required}}
  - {{rule: /maybe, rpc: accounts.maybe, auth: optional}}
  - {{rule: "/orders/<int:id>", rpc: orders.get, scopes: [orders:read], timeout: 3}}
  - {{rule: "/add/<int:a>/<int:b>", rpc: maths.add}}
  - {{rule: /email, rpc: maths.send_message.email.text, methods: POST}}
  - {{rule: "/users/<int:user_id>/score", rpc: maths.score, routing_key: "user-{{user_id}}"}}
  - {{rule: /alerts, rpc: alerts.ping, collect: all, timeout: 2}}
"""

RESPONSE_SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}},
                   "required": ["ok"]}

OPENAPI_METHODS = {"get", "head", "options", "put", "post", "delete", "patch", "trace"}


# --- the validator ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def validate():
    """validate(doc) -> validate.mjs's output; fails the test when the document is not valid."""
    openapi_validator()
    node = shutil.which("node")

    def run(doc):
        out = subprocess.run([node, str(VALIDATOR / "validate.mjs")], input=json.dumps(doc),
                             capture_output=True, text=True, timeout=60 * SCALE)
        assert out.returncode == 0, "not valid OpenAPI 3.1:\n" + out.stderr[-6000:]
        return out.stdout

    return run


def paths_doc(paths):
    """A document of GET operations: {path: [its path parameters' names]}."""
    def operation(names):
        return {"get": {"parameters": [{"name": n, "in": "path", "required": True,
                                        "schema": {"type": "string"}} for n in names],
                        "responses": {"200": {"description": "ok"}}}}
    return {"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
            "paths": {path: operation(names) for path, names in paths.items()}}


def test_the_validator_refuses_an_invalid_document(validate):
    """The check is real: a document without info, and one with a broken schema, are refused."""
    node = shutil.which("node")
    for bad in ({"openapi": "3.1.0", "paths": {}},
                {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {
                    "/a/{x}": {"get": {"parameters": [{"name": "x", "in": "path", "required": True,
                                                       "schema": {"type": "integer",
                                                                  "minimum": "one"}}],
                                       "responses": {"200": {"description": "ok"}}}}}},
                # The path rules no schema says: one path twice under two names; a template
                # expression without its parameter (literal braces, as enoki once copied them).
                paths_doc({"/a/{x}": ["x"], "/a/{y}": ["y"]}),
                paths_doc({"/set/{a}": []}),
                # A schema's own reference copied inline points into the document instead.
                dict(paths_doc({"/p": []}), components={"schemas": {"S": {
                    "properties": {"i": {"$ref": "#/$defs/Item"}}}}})):
        out = subprocess.run([node, str(VALIDATOR / "validate.mjs")], input=json.dumps(bad),
                             capture_output=True, text=True, timeout=60 * SCALE)
        assert out.returncode == 1, (bad, out.stdout, out.stderr)


# --- the werkzeug oracle ------------------------------------------------------------------------


def werkzeug_rules(routes):
    """[(rule, werkzeug Rule)] for the configured routes, as nameko's Map() compiles them."""
    from werkzeug.routing import Map, Rule

    rules = []
    for r in routes:
        methods = r.get("methods", "GET")
        if isinstance(methods, str):
            methods = methods.split(",")
        rules.append((r, Rule(r["rule"], methods=[m.strip() for m in methods],
                              endpoint=r["rpc"])))
    Map([rule for _, rule in rules], strict_slashes=True, merge_slashes=True)
    return rules


def literal(text):
    """Static text as a path key holds it: what is not itself in a URL's path percent-encoded."""
    return "".join("%{:02X}".format(ord(c)) if c in "{}%?#" or ord(c) <= 32 or ord(c) == 127
                   else c for c in text)


def template_of(rule):
    """The OpenAPI path werkzeug's parse gives: static text as is, each variable as {name}."""
    trace = rule._trace[rule._trace.index((False, "|")) + 1:]
    return "".join("{%s}" % data if dynamic else literal(data) for dynamic, data in trace)


def names_of(rule):
    """The rule's variables, in the order the path has them."""
    return [data for dynamic, data in rule._trace if dynamic]


def expected_schema(conv):
    """The schema a converter's values have, worked out from werkzeug's own converter object."""
    kind = type(conv).__name__
    if kind == "UnicodeConverter":
        lo, comma, hi = re.fullmatch(r"\[\^/\]\{(\d+)(,?)(\d*)\}", conv.regex).groups()
        s = {"type": "string", "minLength": int(lo), "pattern": "^[^/]*$"}
        if hi or not comma:
            s["maxLength"] = int(hi or lo)
        return s
    if kind in ("IntegerConverter", "FloatConverter"):
        s = {"type": "integer" if kind == "IntegerConverter" else "number"}
        lo, hi = conv.min, conv.max
        if not conv.signed and (lo is None or lo < 0):
            lo = 0
        if conv.fixed_digits:
            top = 10 ** conv.fixed_digits - 1
            bottom = -(10 ** (conv.fixed_digits - 1) - 1) if conv.signed else 0
            hi = top if hi is None else min(hi, top)
            lo = bottom if lo is None else max(lo, bottom)
        if lo is not None:
            s["minimum"] = lo
        if hi is not None:
            s["maximum"] = hi
        return s
    if kind == "UUIDConverter":
        return {"type": "string", "format": "uuid"}
    if kind == "PathConverter":
        return {"type": "string", "minLength": 1}
    if kind == "AnyConverter":
        return {"type": "string", "enum": sorted(conv.items)}  # compared as a set below
    raise AssertionError("a converter the test does not know: " + kind)


def operation_of(doc, template, method):
    item = doc["paths"].get(template)
    assert item is not None, "no path {} in {}".format(template, sorted(doc["paths"]))
    op = item.get(method)
    assert op is not None, "{} {}: no operation; has {}".format(method, template, sorted(item))
    return op


def check_round_trip(doc, routes):
    """Every rule appears as its template, with each method (HEAD and OPTIONS aside) and each
    argument with werkzeug's converter's schema; and nothing else is documented."""
    documented = set()
    first_of_shape = {}  # OpenAPI's one path for templates that differ only in names
    for r, rule in werkzeug_rules(routes):
        template = template_of(rule)
        shape = re.sub(r"\{[^}]*\}", "{}", template)
        template, names = first_of_shape.setdefault(shape, (template, names_of(rule)))
        named = dict(zip(names_of(rule), names))
        methods = {m.lower() for m in rule.methods}
        if "get" in methods:
            methods.discard("head")  # implied by GET; OPTIONS is in rule.methods only when listed
        assert methods <= OPENAPI_METHODS
        for method in sorted(methods):
            if (template, method) in documented:
                continue  # the first route's operation
            op = operation_of(doc, template, method)
            documented.add((template, method))
            assert op["x-enoki-rule"] == r["rule"], op["x-enoki-rule"]
            params = {p["name"]: p for p in op.get("parameters", [])}
            assert set(params) == set(names), (template, sorted(params))
            for name, conv in rule._converters.items():
                p = params[named[name]]
                assert p["in"] == "path" and p["required"] is True, p
                want = expected_schema(conv)
                got = dict(p["schema"])
                if "enum" in want:
                    assert len(got["enum"]) == len(set(got["enum"])), got
                    got["enum"] = sorted(got["enum"])
                assert got == want, (r["rule"], name, got, want)
                if type(conv).__name__ == "PathConverter":
                    assert p["x-enoki-converter"] == "path" and "slash" in p["description"], p
            assert op["operationId"].startswith(r["rpc"]), (op["operationId"], r["rpc"])
            if method in ("post", "put", "patch"):
                assert "requestBody" in op, (template, method)
            else:
                assert "requestBody" not in op, (template, method)
    for template, item in doc["paths"].items():
        for method in item:
            if not template.startswith("/call/") and not template.startswith("/rpc/"):
                assert (template, method) in documented, (template, method)
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)), ids


def fetch(gw):
    r = gw.get(SPEC)
    assert r.status == 200, r.body
    assert r.content_type == "application/json", r.headers
    return json.loads(r.body)


# --- the README's example config ----------------------------------------------------------------


def example_text(openapi_path):
    """examples/gateway.yaml on a port of the test's, with GATEWAY.openapi_path when given (the
    example's own, and its docs page, taken out)."""
    text = "".join(line for line in EXAMPLE.read_text().splitlines(True)
                   if not line.startswith(("  openapi_path:", "  docs_path:", "  docs_dir:")))
    listen = "${WEB_SERVER_ADDRESS:0.0.0.0:8000}"
    assert listen in text and "\nGATEWAY:\n" in text
    text = text.replace(listen, "127.0.0.1:@PORT@")
    if openapi_path:
        text = text.replace("\nGATEWAY:\n", "\nGATEWAY:\n  openapi_path: {}\n".format(openapi_path), 1)
    return text


def example_routes():
    import yaml

    return yaml.safe_load(EXAMPLE.read_text())["routes"]


@pytest.fixture(scope="module")
def example_gw(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("openapi-example")
    gw = Enoki(tmp, text=example_text(SPEC), name="gateway.yaml", env={"AMQP_URI": NO_BROKER})
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def example_doc(example_gw):
    return fetch(example_gw)


def test_example_document_is_valid_openapi_3_1(example_doc, validate):
    assert example_doc["openapi"].startswith("3.1.")
    assert validate(example_doc).strip() == "valid"


def test_example_round_trip(example_doc):
    check_round_trip(example_doc, example_routes())
    # The example's GATEWAY.errors (ValueError: 422) and its expose list (the generic route).
    op = operation_of(example_doc, "/get/{value}", "get")
    assert "422" in op["responses"] and "ValueError" in op["responses"]["422"]["description"]
    generic = operation_of(example_doc, "/rpc/{service}/{method}", "post")
    assert generic["x-enoki-expose"] == ["http_service.*"]
    assert set(generic["responses"]) >= {"200", "400", "403", "404", "500", "502", "503", "504"}
    assert "securitySchemes" not in example_doc["components"]
    error = example_doc["components"]["schemas"]["Error"]
    assert set(error["properties"]) >= {"error", "message", "call_id", "exc_type", "exc_path",
                                        "exc_args", "value"}


def test_head_and_other_methods(example_gw):
    got = example_gw.get(SPEC)
    head = example_gw.request("HEAD", SPEC)
    assert head.status == 200 and head.body == b"", head.headers
    assert int(head.header("Content-Length")) == len(got.body)
    for method in ("POST", "PUT", "DELETE"):
        r = example_gw.request(method, SPEC, body=b"{}" if method != "DELETE" else None)
        assert r.status == 405, (method, r.status, r.body)
        assert r.header("Allow") == "GET, HEAD", r.headers
        assert json.loads(r.body)["error"] == "method_not_allowed"


def test_no_document_unless_configured(tmp_path):
    gw = Enoki(tmp_path, text=example_text(None), name="gateway.yaml", env={"AMQP_URI": NO_BROKER})
    try:
        r = gw.get(SPEC)
        assert r.status == 404 and json.loads(r.body)["error"] == "not_found", r.body
    finally:
        gw.stop()


# --- every converter and option -----------------------------------------------------------------


def full_text():
    return FULL_CONFIG.format(name=GWNAME + "o", svc=SVC)


def full_routes():
    import yaml

    return yaml.safe_load(full_text().replace("@PORT@", "1"))["routes"]


@pytest.fixture(scope="module")
def full_gw(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("openapi-full")
    (tmp / "response.json").write_text(json.dumps(RESPONSE_SCHEMA))
    gw = Enoki(tmp, text=full_text(), name="full.yaml")
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def full_doc(full_gw):
    return fetch(full_gw)


def test_full_document_is_valid_openapi_3_1(full_doc, validate):
    assert validate(full_doc).strip() == "valid"


def test_full_round_trip(full_doc):
    check_round_trip(full_doc, full_routes())


def test_full_document_options(full_doc):
    doc = full_doc
    # Documentation keys; the response schema read from the file beside the config.
    op = operation_of(doc, "/doc", "post")
    assert op["summary"] == "A documented route"
    assert op["description"] == "Every documentation key at once."
    assert op["tags"] == ["documented", "example"]
    body = op["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["name"] and body["additionalProperties"] is False
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == RESPONSE_SCHEMA
    # A route without tags is grouped by its service.
    assert operation_of(doc, "/", "get")["tags"] == [SVC]
    # mode: http: text, unless the route documents a JSON result.
    op = operation_of(doc, "/http/{item_id}", "get")
    assert set(op["responses"]["200"]["content"]) == {"text/plain"}
    assert set(op["responses"]["500"]["content"]) == {"text/plain"}
    assert "415" not in operation_of(doc, "/http/{item_id}", "post")["responses"]
    op = operation_of(doc, "/http-json", "get")
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {"type": "object"}
    # GATEWAY.errors statuses; 415 and 413 where a body is read.
    op = operation_of(doc, "/s/{pin}/z", "post")
    assert {"409", "413", "415", "422", "500"} <= set(op["responses"])
    assert "TypeError" in op["responses"]["500"]["description"]
    # Auth: the scheme, and each route's requirement.
    assert doc["components"]["securitySchemes"] == {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
    assert operation_of(doc, "/me", "get")["security"] == [{"bearer": []}]
    assert operation_of(doc, "/maybe", "get")["security"] == [{}, {"bearer": []}]
    assert operation_of(doc, "/orders/{id}", "get")["security"] == [{"bearer": ["orders:read"]}]
    assert "403" in operation_of(doc, "/orders/{id}", "get")["responses"]
    assert "401" in operation_of(doc, "/me", "get")["responses"]
    assert operation_of(doc, "/", "get")["security"] == []
    assert "401" not in operation_of(doc, "/", "get")["responses"]
    # The generic route under its prefix, with every expose entry's requirement.
    generic = operation_of(doc, "/call/{service}/{method}", "post")
    assert generic["security"] == [{}, {"bearer": []}, {"bearer": ["admin:call"]}]
    # amphora routes are routes too; a fanout's collect answers every reply.
    assert operation_of(doc, "/add/{a}/{b}", "get")["x-enoki-protocol"] == "amphora"
    assert operation_of(doc, "/email", "post")["operationId"] == "maths.send_message.email.text"
    replies = operation_of(doc, "/alerts", "get")["responses"]["200"]["content"]
    assert set(replies["application/json"]["schema"]["required"]) == {"replies", "complete"}
    # The same rule's template, methods and ids: "/i/{n}" has three operations of one target.
    assert sorted(doc["paths"]["/i/{n}"]) == ["delete", "get", "put"]
    assert operation_of(doc, "/i/{n}", "put")["operationId"] == SVC + ".int_put"
    # Deterministic: the same bytes twice.
    assert json.dumps(doc) == json.dumps(doc)


def test_same_bytes_from_request_to_request(full_gw):
    assert full_gw.get(SPEC).body == full_gw.get(SPEC).body


# --- SIGHUP -------------------------------------------------------------------------------------


def sighup(gw):
    before = gw.stderr_text().count("reloaded ")
    gw.send_signal(signal.SIGHUP)
    wait_for(lambda: gw.stderr_text().count("reloaded ") > before, 10 * SCALE,
             what="the reload's log line")


def test_sighup_changes_the_document(tmp_path, validate):
    text = ("AMQP_URI: {}\nWEB_SERVER_ADDRESS: 127.0.0.1:@PORT@\n"
            "GATEWAY: {{name: {}, openapi_path: /spec}}\n"
            "routes:\n  - {{rule: \"/old/<int:n>\", rpc: s.old}}\n").format(NO_BROKER, GWNAME + "h")
    gw = Enoki(tmp_path, text=text)
    try:
        first = gw.get("/spec")
        assert first.status == 200
        assert list(json.loads(first.body)["paths"]) == ["/old/{n}"]
        # A new file: another path for the document, another route.
        gw.config_path.write_text(
            ("AMQP_URI: {}\nWEB_SERVER_ADDRESS: 127.0.0.1:{}\n"
             "GATEWAY: {{name: {}, openapi_path: /openapi.json}}\n"
             "routes:\n  - {{rule: \"/new/<uuid:id>\", rpc: s.new, summary: New}}\n"
             ).format(NO_BROKER, gw.port, GWNAME + "h"))
        sighup(gw)
        r = gw.get("/openapi.json")
        assert r.status == 200, r.body
        doc = json.loads(r.body)
        assert list(doc["paths"]) == ["/new/{id}"]
        assert operation_of(doc, "/new/{id}", "get")["summary"] == "New"
        validate(doc)
        assert gw.get("/spec").status == 404
        # A file whose schema file is missing is refused: the document stays.
        gw.config_path.write_text(gw.config_path.read_text().replace(
            "summary: New", "response_schema: missing.json"))
        gw.send_signal(signal.SIGHUP)
        wait_for(lambda: "missing.json" in gw.stderr_text(), 10 * SCALE,
                 what="the refused reload's log line")
        assert json.loads(gw.get("/openapi.json").body) == doc
    finally:
        gw.stop()


# --- the config --------------------------------------------------------------------------------


def test_check_reads_schema_files(tmp_path):
    config = tmp_path / "gw.yaml"
    config.write_text("routes:\n  - {rule: /a, rpc: s.a, request_schema: body.json}\n")
    out = run_enoki("--config", str(config), "--check")
    assert out.returncode == 2, out
    assert "routes[0].request_schema: cannot read the JSON Schema file" in out.stderr, out.stderr
    assert str(tmp_path / "body.json") in out.stderr
    (tmp_path / "body.json").write_text('{"type": "object",}')
    out = run_enoki("--config", str(config), "--check")
    assert out.returncode == 2 and "line 1" in out.stderr, out.stderr
    (tmp_path / "body.json").write_text('{"type": "object"}')
    out = run_enoki("--config", str(config), "--check")
    assert out.returncode == 0, out.stderr


def test_no_route_may_hide_the_document(tmp_path):
    config = tmp_path / "gw.yaml"
    config.write_text("GATEWAY: {openapi_path: /docs/openapi.json}\n"
                      "routes:\n  - {rule: \"/docs/<name>\", rpc: s.docs}\n")
    out = run_enoki("--config", str(config), "--check")
    assert out.returncode == 2, out
    assert "collides with enoki's own /docs/openapi.json" in out.stderr, out.stderr
