// Checks GitHub workflow files and action.yml files with GitHub's own parser
// (@actions/workflow-parser, the one the runner and the VS Code extension
// use), printing one line per problem and exiting 1 when there is any.
// The parser imports its JSON schema as a module, so tests/cli/workflow_parser.sh
// bundles this file with esbuild before node runs it.
import fs from "node:fs";
import { parseWorkflow, convertWorkflowTemplate, NoOperationTraceWriter } from "@actions/workflow-parser";
import { parseAction } from "@actions/workflow-parser/actions/action-parser";

function problemsOf(name, content) {
  const file = { name, content };
  const trace = new NoOperationTraceWriter();
  if (/(^|\/)action\.ya?ml$/.test(name)) {
    return Promise.resolve(parseAction(file, trace).context.errors.getErrors());
  }
  const parsed = parseWorkflow(file, trace);
  if (!parsed.value) return Promise.resolve(parsed.context.errors.getErrors());
  // Conversion checks what the schema cannot: job graphs, expressions, matrix.
  return convertWorkflowTemplate(parsed.context, parsed.value).then(() =>
    parsed.context.errors.getErrors()
  );
}

async function main() {
  let count = 0;
  for (const name of process.argv.slice(2)) {
    const seen = new Set();
    for (const error of await problemsOf(name, fs.readFileSync(name, "utf8"))) {
      const text = error.message ?? String(error);
      if (seen.has(text)) continue;
      seen.add(text);
      console.log(text.startsWith(name) ? text : `${name}: ${text}`);
      count++;
    }
  }
  process.exit(count ? 1 : 0);
}

main();
