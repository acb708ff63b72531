// Runs one job of a GitHub workflow on this machine the way GitHub's runner
// runs it, for the tests (GitHub's runner cannot run here):
// - `${{ }}` expressions evaluated by @actions/expressions, GitHub's own
//   evaluator, with the github, env, secrets, inputs, steps, runner and job
//   contexts; `if:` with success(), failure(), always() and cancelled();
// - `run:` steps as `bash --noprofile --norc -eo pipefail {0}`, with
//   GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH and GITHUB_STEP_SUMMARY files;
// - local composite actions (`uses: ./action`): inputs with their defaults,
//   GITHUB_ACTION_PATH, each step's env, and the outputs' `value:`;
// - any other `uses:` (actions/checkout, ...) is not available here: the
//   step is skipped and says so, unless the request maps it to a stand-in.
//
// Usage: node run-workflow.cjs REQUEST.json; REQUEST holds workflow, job,
// workspace, github (context), secrets, env (the machine's), runner_temp, and
// stand_ins ({"actions/checkout": "skip"}), and input_overrides for local
// actions (install: none, where the binaries are on PATH already). It prints the job's steps and
// outputs as one JSON object on stdout and the steps' logs on stderr; it
// exits 0 when the job succeeded, 1 when it failed.
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import YAML from "yaml";
import { Lexer, Parser, Evaluator, data } from "@actions/expressions";
import { truthy } from "@actions/expressions/result";

const request = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const workflow = YAML.parse(fs.readFileSync(request.workflow, "utf8"));
const job = workflow.jobs[request.job];
if (!job) {
  console.error(`${request.workflow}: no job ${request.job}`);
  process.exit(2);
}

function toData(value) {
  if (value === null || value === undefined) return new data.Null();
  if (typeof value === "string") return new data.StringData(value);
  if (typeof value === "number") return new data.NumberData(value);
  if (typeof value === "boolean") return new data.BooleanData(value);
  if (Array.isArray(value)) {
    const array = new data.Array();
    for (const item of value) array.add(toData(item));
    return array;
  }
  const dictionary = new data.Dictionary();
  for (const [key, item] of Object.entries(value)) dictionary.add(key, toData(item));
  return dictionary;
}

// Evaluates one expression (the text inside ${{ }}) against `contexts`.
function evaluate(expression, contexts, status) {
  // Status functions are the runner's, not the evaluator's.
  const text = expression
    .replace(/\bsuccess\(\)/g, status.failed ? "false" : "true")
    .replace(/\bfailure\(\)/g, status.failed ? "true" : "false")
    .replace(/\balways\(\)/g, "true")
    .replace(/\bcancelled\(\)/g, "false");
  const lexed = new Lexer(text).lex();
  const parsed = new Parser(lexed.tokens, Object.keys(contexts), []).parse();
  const context = new data.Dictionary();
  for (const [name, value] of Object.entries(contexts)) context.add(name, toData(value));
  return new Evaluator(parsed, context).evaluate();
}

// A string with every ${{ }} replaced by its value, as the runner does.
function substitute(template, contexts, status) {
  if (typeof template !== "string") return template === undefined ? "" : String(template);
  return template.replace(/\$\{\{(.*?)\}\}/gs, (_, expression) =>
    evaluate(expression, contexts, status).coerceString()
  );
}

function condition(text, contexts, status) {
  if (text === undefined) return !status.failed;
  let expression = String(text).trim();
  const whole = expression.match(/^\$\{\{(.*)\}\}$/s);
  if (whole) expression = whole[1];
  // An `if:` without a status function is implicitly `success() && (...)`.
  if (!/\b(success|failure|always|cancelled)\(\)/.test(expression)) {
    if (status.failed) return false;
  }
  return truthy(evaluate(expression, contexts, status));
}

// Reads a GITHUB_OUTPUT / GITHUB_ENV file: name=value, or name<<DELIMITER.
function readCommandFile(file) {
  const values = {};
  if (!fs.existsSync(file)) return values;
  const lines = fs.readFileSync(file, "utf8").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line === "") continue;
    const heredoc = line.match(/^([^=<]+)<<(.+)$/);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2], i + 1);
      if (end < 0) throw new Error(`${file}: ${heredoc[1]}: delimiter ${heredoc[2]} never closes the value`);
      values[heredoc[1]] = lines.slice(i + 1, end).join("\n");
      i = end;
    } else {
      const equals = line.indexOf("=");
      if (equals < 0) throw new Error(`${file}: neither name=value nor name<<delimiter: ${line}`);
      values[line.slice(0, equals)] = line.slice(equals + 1);
    }
  }
  return values;
}

const temp = request.runner_temp;
fs.mkdirSync(temp, { recursive: true });
let counter = 0;
const summaryFile = path.join(temp, "step-summary.md");
fs.writeFileSync(summaryFile, "");
const jobEnv = { ...(workflow.env ?? {}), ...(job.env ?? {}) };
const addedEnv = {};
const addedPath = [];
// The workflow's and job's env, their expressions evaluated once, as the runner does.
const resolvedJobEnv = {};

// Runs a bash script with the step's environment; returns exit code and outputs.
function runScript(script, stepEnv, extra) {
  const id = ++counter;
  const scriptFile = path.join(temp, `step-${id}.sh`);
  const outputFile = path.join(temp, `output-${id}`);
  const envFile = path.join(temp, `env-${id}`);
  const pathFile = path.join(temp, `path-${id}`);
  fs.writeFileSync(scriptFile, script);
  for (const file of [outputFile, envFile, pathFile]) fs.writeFileSync(file, "");
  const environment = {
    ...request.env,
    ...resolvedJobEnv,
    ...addedEnv,
    ...stepEnv,
    ...extra,
    CI: "true",
    GITHUB_ACTIONS: "true",
    GITHUB_WORKSPACE: request.workspace,
    GITHUB_REF_NAME: request.github.ref_name ?? "",
    GITHUB_REF: request.github.ref ?? "",
    GITHUB_SHA: request.github.sha ?? "",
    GITHUB_REPOSITORY: request.github.repository ?? "",
    GITHUB_RUN_ID: String(request.github.run_id ?? ""),
    GITHUB_SERVER_URL: request.github.server_url ?? "https://github.com",
    RUNNER_TEMP: temp,
    GITHUB_OUTPUT: outputFile,
    GITHUB_ENV: envFile,
    GITHUB_PATH: pathFile,
    GITHUB_STEP_SUMMARY: summaryFile,
  };
  environment.PATH = [...addedPath, request.env.PATH ?? "/usr/bin:/bin"].join(":");
  const run = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", scriptFile], {
    cwd: request.workspace,
    env: environment,
    stdio: ["ignore", "inherit", "inherit"],
  });
  Object.assign(addedEnv, readCommandFile(envFile));
  for (const line of fs.readFileSync(pathFile, "utf8").split("\n")) if (line) addedPath.unshift(line);
  return { code: run.status ?? 128, outputs: readCommandFile(outputFile) };
}

function contextsFor(steps, extra = {}) {
  return {
    github: request.github,
    env: { ...resolvedJobEnv, ...addedEnv },
    secrets: request.secrets ?? {},
    runner: { temp, os: "Linux", arch: "X64" },
    job: { status: "success" },
    steps,
    ...extra,
  };
}

function runCompositeAction(actionDir, withInputs, status) {
  const action = YAML.parse(fs.readFileSync(path.join(actionDir, "action.yml"), "utf8"));
  const inputs = {};
  for (const [name, spec] of Object.entries(action.inputs ?? {})) {
    inputs[name] =
      name in withInputs ? withInputs[name] : substitute(spec.default ?? "", contextsFor({}), status);
  }
  const steps = {};
  const local = { failed: false };
  for (const step of action.runs.steps) {
    const contexts = contextsFor(steps, { inputs });
    if (!condition(step.if, contexts, local)) continue;
    if (step.run === undefined) {
      console.error(`run-workflow: ${step.uses}: not available here; skipped`);
      if (step.id) steps[step.id] = { outputs: {}, outcome: "success", conclusion: "success" };
      continue;
    }
    const stepEnv = {};
    for (const [name, value] of Object.entries(step.env ?? {})) stepEnv[name] = substitute(value, contexts, local);
    const result = runScript(substitute(step.run, contexts, local), stepEnv, { GITHUB_ACTION_PATH: actionDir });
    const outcome = result.code === 0 ? "success" : "failure";
    if (step.id) steps[step.id] = { outputs: result.outputs, outcome, conclusion: outcome };
    if (result.code !== 0) local.failed = true;
  }
  const outputs = {};
  for (const [name, spec] of Object.entries(action.outputs ?? {})) {
    outputs[name] = substitute(spec.value, contextsFor(steps, { inputs }), local);
  }
  return { failed: local.failed, outputs };
}

const steps = {};
const status = { failed: false };
const report = [];
for (const [name, value] of Object.entries(jobEnv)) resolvedJobEnv[name] = substitute(value, contextsFor({}), status);
for (const [index, step] of (job.steps ?? []).entries()) {
  const name = step.name ?? step.uses ?? `step ${index}`;
  const contexts = contextsFor(steps);
  if (!condition(step.if, contexts, status)) {
    report.push({ name, id: step.id ?? null, outcome: "skipped" });
    continue;
  }
  const stepEnv = {};
  for (const [key, value] of Object.entries(step.env ?? {})) stepEnv[key] = substitute(value, contexts, status);
  let outcome;
  let outputs = {};
  if (step.run !== undefined) {
    const result = runScript(substitute(step.run, contexts, status), stepEnv, {});
    outcome = result.code === 0 ? "success" : "failure";
    outputs = result.outputs;
  } else if (step.uses.startsWith("./")) {
    const withInputs = {};
    for (const [key, value] of Object.entries(step.with ?? {})) withInputs[key] = substitute(value, contexts, status);
    for (const [key, value] of Object.entries(request.input_overrides ?? {})) {
      console.error(`run-workflow: ${step.uses}: input ${key} set to '${value}' by the test`);
      withInputs[key] = value;
    }
    // Composite steps see the calling step's env on top of the job's.
    const saved = { ...addedEnv };
    Object.assign(addedEnv, stepEnv);
    const result = runCompositeAction(path.join(request.workspace, step.uses), withInputs, status);
    for (const key of Object.keys(stepEnv)) if (!(key in saved)) delete addedEnv[key];
    Object.assign(addedEnv, saved);
    outcome = result.failed ? "failure" : "success";
    outputs = result.outputs;
  } else {
    const action = step.uses.split("@")[0];
    console.error(`run-workflow: ${step.uses}: not available here; skipped (${request.stand_ins?.[action] ?? "no stand-in"})`);
    outcome = "success";
  }
  if (step.id) steps[step.id] = { outputs, outcome, conclusion: outcome };
  report.push({ name, id: step.id ?? null, outcome, outputs });
  if (outcome === "failure" && !step["continue-on-error"]) status.failed = true;
}
const jobOutputs = {};
for (const [name, value] of Object.entries(job.outputs ?? {})) jobOutputs[name] = substitute(value, contextsFor(steps), status);
console.log(
  JSON.stringify({
    conclusion: status.failed ? "failure" : "success",
    steps: report,
    outputs: jobOutputs,
    summary: fs.readFileSync(summaryFile, "utf8"),
  })
);
process.exit(status.failed ? 1 : 0);
