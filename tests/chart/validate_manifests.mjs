// Validates Kubernetes objects against the upstream API schemas shipped in npm `kubernetes-models`
// (the Kubernetes OpenAPI definitions compiled to ajv validators, one module per kind under
// kubernetes-models/<group>/<version>/<Kind>; the core group is "v1"). CRDs are validated as
// apiextensions.k8s.io/v1 CustomResourceDefinition objects.
//
//   node validate_manifests.mjs KUBERNETES_MODELS_PREFIX OBJECTS.json
//
// KUBERNETES_MODELS_PREFIX is the npm --prefix it was installed into (.tools/kubernetes-models);
// OBJECTS.json is one JSON array of objects (check_rendered.py writes it from `helm template`).
// An object whose kind the package does not know is an error, not a skip. Exits 1 on any error.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const [prefix, objectsFile] = process.argv.slice(2);
if (!prefix || !objectsFile) {
  console.error("usage: node validate_manifests.mjs KUBERNETES_MODELS_PREFIX OBJECTS.json");
  process.exit(2);
}
const require = createRequire(path.resolve(prefix, "node_modules") + path.sep);
const version = require("kubernetes-models/package.json").version;
const objects = JSON.parse(readFileSync(objectsFile, "utf8"));

let errors = 0;
const counts = {};
for (const obj of objects) {
  const what = `${obj.kind}/${obj.metadata?.name} (${obj.apiVersion})`;
  let Model;
  try {
    // "apps/v1" -> kubernetes-models/apps/v1/Deployment; "v1" -> kubernetes-models/v1/Service.
    Model = require(`kubernetes-models/${obj.apiVersion}/${obj.kind}`)[obj.kind];
  } catch (e) {
    console.error(`FAIL: ${what}: no schema for this kind in kubernetes-models ${version}`);
    errors++;
    continue;
  }
  try {
    new Model(obj).validate();
    counts[obj.kind] = (counts[obj.kind] ?? 0) + 1;
  } catch (e) {
    errors++;
    console.error(`FAIL: ${what}: ${e.message}`);
    for (const err of e.errors ?? []) {
      console.error(`  ${err.instancePath || "/"} ${err.message} ${JSON.stringify(err.params)}`);
    }
  }
}
const summary = Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(", ");
console.log(`validate_manifests: kubernetes-models ${version}: ${objects.length - errors}/${objects.length} valid (${summary})`);
process.exit(errors ? 1 : 0);
