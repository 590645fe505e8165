// Lints the repository's Dockerfile with npm `dockerfile-utils` (the Docker language server's
// validator: syntax, flags, instruction arguments, stage names, JSON forms) and checks, with its
// parser (dockerfile-ast), what aidi's images promise: a builder stage that runs scripts/bootstrap
// and `scripts/build release` as CI does, and final stages operator, scheduler-extender and worker,
// each with a numeric non-root USER and an exec-form ENTRYPOINT of its binary, copied from the
// builder's build/bin. Any diagnostic, error or warning, fails.
//
//   node lint_dockerfile.mjs DOCKERFILE_UTILS_PREFIX Dockerfile
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const [prefix, file] = process.argv.slice(2);
if (!prefix || !file) {
  console.error("usage: node lint_dockerfile.mjs DOCKERFILE_UTILS_PREFIX Dockerfile");
  process.exit(2);
}
const require = createRequire(path.resolve(prefix, "node_modules") + path.sep);
const utils = require("dockerfile-utils");
const { DockerfileParser } = require("dockerfile-ast");
const version = require("dockerfile-utils/package.json").version;
const content = readFileSync(file, "utf8");

let failures = 0;
const fail = (msg) => {
  console.error(`FAIL: ${msg}`);
  failures++;
};

// 1. dockerfile-utils' validator, every check at its default severity (errors and warnings).
const severity = { 1: "error", 2: "warning", 3: "info", 4: "hint" };
const diagnostics = utils.validate(content, {});
for (const d of diagnostics) {
  fail(`${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${severity[d.severity] ?? d.severity}: ${d.message}`);
}

// 2. The stages, in order, with their instructions.
const dockerfile = DockerfileParser.parse(content);
const stages = [];
for (const ins of dockerfile.getInstructions()) {
  const keyword = ins.getKeyword();
  if (keyword === "FROM") {
    stages.push({ name: ins.getBuildStage(), image: ins.getImage(), instructions: [] });
  } else if (stages.length) {
    stages.at(-1).instructions.push({ keyword, args: ins.getArgumentsContent() ?? "", ins });
  }
}
const byName = Object.fromEntries(stages.filter((s) => s.name).map((s) => [s.name, s]));
const runs = (stage) => stage.instructions.filter((i) => i.keyword === "RUN").map((i) => i.args).join("\n");

const builder = byName.builder;
if (!builder) {
  fail("no stage named builder");
} else {
  if (builder.image !== "debian:bookworm") fail(`builder is FROM ${builder.image}, not debian:bookworm (CI's platform)`);
  const commands = runs(builder);
  for (const step of ["scripts/bootstrap", "scripts/build release"]) {
    if (!commands.includes(step)) fail(`builder does not run ${step}`);
  }
}

const finals = {
  operator: "aidi-operator",
  "scheduler-extender": "aidi-scheduler-extender",
  worker: "aidi-worker",
};
for (const [stageName, binary] of Object.entries(finals)) {
  const stage = byName[stageName];
  if (!stage) {
    fail(`no stage named ${stageName}`);
    continue;
  }
  // Instructions inherited from a local parent stage count too (FROM runtime AS operator).
  const chain = [];
  for (let s = stage; s; s = byName[s.image]) chain.unshift(s);
  const all = chain.flatMap((s) => s.instructions);
  const users = all.filter((i) => i.keyword === "USER");
  const user = users.at(-1)?.args.trim() ?? "";
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  if (!m) fail(`${stageName}: USER ${JSON.stringify(user)} is not numeric (uid[:gid])`);
  else if (Number(m[1]) === 0 || (m[2] !== undefined && Number(m[2]) === 0)) fail(`${stageName}: USER ${user} is root`);
  const entry = all.filter((i) => i.keyword === "ENTRYPOINT").at(-1);
  if (!entry) {
    fail(`${stageName}: no ENTRYPOINT`);
  } else {
    const json = typeof entry.ins.getJSONStrings === "function" ? entry.ins.getJSONStrings() : [];
    if (!json.length) fail(`${stageName}: ENTRYPOINT is not in exec (JSON) form`);
    else if (!json[0].getJSONValue().endsWith(`/${binary}`)) fail(`${stageName}: ENTRYPOINT runs ${json[0].getJSONValue()}, not ${binary}`);
  }
  const copied = stage.instructions.some(
    (i) => i.keyword === "COPY" && i.args.includes(`/build/bin/${binary} `) &&
      i.ins.getFlags().some((f) => f.getName() === "from" && f.getValue() === "builder"));
  if (!copied) fail(`${stageName}: does not COPY --from=builder .../build/bin/${binary}`);
}
const worker = byName.worker;
if (worker) {
  const base = dockerfile.getInitialARGs().find((a) => a.getProperty()?.getName() === "WORKER_BASE");
  const image = worker.image === "${WORKER_BASE}" ? base?.getProperty()?.getValue() : worker.image;
  if (!/^nvidia\/cuda:[0-9.]+-(base|runtime)-/.test(image ?? "")) fail(`worker base ${image} is not a CUDA runtime image`);
  if (!worker.instructions.some((i) => i.keyword === "COPY" && i.args.includes("libduckdb.so"))) {
    fail("worker: libduckdb.so is not copied");
  }
}

console.log(`lint_dockerfile: dockerfile-utils ${version}: ${diagnostics.length} diagnostics; ` +
  `stages ${stages.map((s) => s.name ?? "(unnamed)").join(", ")}`);
process.exit(failures ? 1 : 0);
