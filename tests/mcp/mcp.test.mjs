// MCP both ways, with servers and a client nobody here wrote:
// - the engine (`infiagent run`) starts the official reference servers from npm
//   (@modelcontextprotocol/server-everything and server-filesystem), a fake
//   OpenAI-compatible model on loopback calls their tools, and the results reach
//   the model; a server killed mid-call gives a clear error and a restart;
// - `infiagent mcp serve` is driven by the official TypeScript SDK's client:
//   tools listed, `route` and `run_task` called, progress received, a run cancelled.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { promisify } from "node:util";
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import net from "node:net";

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = process.env.INFIAGENT_BIN;
const EVERYTHING = path.join(here, "node_modules/@modelcontextprotocol/server-everything/dist/index.js");
const FILESYSTEM = path.join(here, "node_modules/@modelcontextprotocol/server-filesystem/dist/index.js");

// The fake model: each request is answered by the scenario its task names.
const requests = [];
let model;
let modelUrl;
const hung = new Set();

function reply(toolCalls) {
  return {
    id: "fake",
    object: "chat.completion",
    created: 0,
    model: "fake",
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: null,
          tool_calls: toolCalls.map(([name, args], i) => ({
            id: `call_${requests.length}_${i}`,
            type: "function",
            function: { name, arguments: JSON.stringify(args) },
          })),
        },
        finish_reason: "tool_calls",
      },
    ],
    usage: { prompt_tokens: 100, completion_tokens: 10, total_tokens: 110 },
  };
}

const done = (output) => [["final_output", { status: "success", output }]];

// The tool results the agent has been given so far, in order.
function results(body) {
  return body.messages.filter((m) => m.role === "tool").map((m) => String(m.content));
}

function answer(body) {
  const task = JSON.stringify(body.messages.filter((m) => m.role === "user").slice(0, 1));
  const seen = results(body);
  if (task.includes("SCENARIO-TOOLS")) {
    if (seen.length === 0) {
      return [
        ["mcp__everything__echo", { message: "hello from the pyramid" }],
        ["mcp__files__read_text_file", { path: path.join(workspace, "notes.txt") }],
      ];
    }
    return done(`echo and notes seen`);
  }
  if (task.includes("SCENARIO-CRASH")) {
    if (seen.length === 0) {
      return [["mcp__everything__trigger-long-running-operation", { duration: 30, steps: 30 }]];
    }
    if (seen.length === 1) {
      return [["mcp__everything__echo", { message: "after the restart" }]];
    }
    return done("restarted");
  }
  if (task.includes("SCENARIO-QUICK")) {
    if (seen.length === 0) {
      return [["mcp__everything__get-sum", { a: 2, b: 3 }]];
    }
    return done("the sum is known");
  }
  if (task.includes("SCENARIO-SHELL")) {
    if (seen.length === 0) {
      return [["execute_shell", { command: "echo consent-given" }]];
    }
    return done("the shell ran or not");
  }
  if (task.includes("SCENARIO-REMOTE")) {
    if (seen.length === 0) {
      return [["mcp__remote__get-sum", { a: 2, b: 3 }]];
    }
    return done("added remotely");
  }
  if (task.includes("SCENARIO-HANG")) {
    return null; // never answered: the run waits until it is cancelled
  }
  return done("nothing to do");
}

let workspace;

before(async () => {
  assert.ok(BIN, "INFIAGENT_BIN must name the infiagent binary");
  workspace = fs.mkdtempSync(path.join(os.tmpdir(), "infiagent-mcp-"));
  model = http.createServer((req, res) => {
    let data = "";
    req.on("data", (chunk) => (data += chunk));
    req.on("end", () => {
      const body = JSON.parse(data);
      requests.push(body);
      const calls = answer(body);
      if (calls === null) {
        hung.add(res);
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(reply(calls)));
    });
  });
  await new Promise((resolve) => model.listen(0, "127.0.0.1", resolve));
  modelUrl = `http://127.0.0.1:${model.address().port}/v1`;
  fs.writeFileSync(path.join(workspace, "notes.txt"), "The notes say: forty-two.\n");
  fs.mkdirSync(path.join(workspace, ".infiagent/agents"), { recursive: true });
  fs.writeFileSync(
    path.join(workspace, ".infiagent/config.toml"),
    `[model]
base_url = ${JSON.stringify(modelUrl)}
name = "fake"
stream = false

[run]
autonomy = "auto"

[context]
summarizer = "lines"

[mcp.servers.everything]
command = ${JSON.stringify(process.execPath)}
args = [${JSON.stringify(EVERYTHING)}, "stdio"]
tool_timeout_s = 60

[mcp.servers.files]
command = ${JSON.stringify(process.execPath)}
args = [${JSON.stringify(FILESYSTEM)}, ${JSON.stringify(fs.realpathSync(workspace))}]
`,
  );
  fs.writeFileSync(
    path.join(workspace, ".infiagent/agents/mcp_user.md"),
    `---
name: mcp_user
level: 1
description: Uses the tools of MCP servers to answer questions about the notes.
tools: [mcp__everything__*, mcp__files__read_text_file, file_read, execute_shell]
---
You use MCP tools.
`,
  );
});

after(() => {
  for (const res of hung) res.destroy();
  model?.close();
});

async function runTask(task) {
  const { stdout } = await run(
    BIN,
    ["run", "-w", workspace, "--agent", "mcp_user", "--json", task],
    { timeout: 120_000 },
  ).catch((error) => {
    throw new Error(`infiagent run failed: ${error.message}\n${error.stdout}\n${error.stderr}`);
  });
  return JSON.parse(stdout);
}

function requestsFor(scenario) {
  return requests.filter((body) => JSON.stringify(body.messages).includes(scenario));
}

test("agents call the tools of the reference servers, and the results reach the model", async () => {
  const outcome = await runTask("SCENARIO-TOOLS: what do the notes say?");
  assert.equal(outcome.end, "finished", JSON.stringify(outcome));
  const asked = requestsFor("SCENARIO-TOOLS");
  // The tools were offered with the servers' own schemas.
  const offered = asked[0].tools.map((tool) => tool.function.name);
  assert.ok(offered.includes("mcp__everything__echo"), offered.join(", "));
  assert.ok(offered.includes("mcp__files__read_text_file"), offered.join(", "));
  assert.ok(!offered.includes("mcp__files__write_file"), "only the listed tool of `files` is offered");
  const echo = asked[0].tools.find((tool) => tool.function.name === "mcp__everything__echo");
  assert.equal(echo.function.parameters.properties.message.type, "string");
  // The answers came back to the model.
  const last = results(asked.at(-1));
  assert.ok(last.some((text) => text.includes("Echo: hello from the pyramid")), last.join("\n"));
  assert.ok(last.some((text) => text.includes("forty-two")), last.join("\n"));
  assert.match(JSON.stringify(outcome), /echo and notes seen/);
});

test("`infiagent mcp list` shows the servers and their tools", async () => {
  const { stdout } = await run(BIN, ["mcp", "list", "-w", workspace], { timeout: 60_000 });
  assert.match(stdout, /^everything .*running, \d+ tools$/m);
  assert.match(stdout, /^ {2}mcp__everything__echo {2}Tool 'echo' of the MCP server 'everything': Echoes back the input string$/m);
  assert.match(stdout, /^files .*running/m);
  assert.match(stdout, /mcp__files__read_text_file/);
});

test("a server killed mid-call gives the agent a clear error, and is started again", async () => {
  const running = runTask("SCENARIO-CRASH: run the long operation");
  // Wait for the long call to be in flight, then kill its server.
  let pid;
  for (let i = 0; i < 200 && !pid; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const asked = requestsFor("SCENARIO-CRASH");
    if (asked.length === 0) continue;
    const { stdout } = await run("pgrep", ["-f", "server-everything/dist/index.js"]).catch(() => ({ stdout: "" }));
    pid = stdout.trim().split("\n").filter(Boolean).map(Number).at(-1);
  }
  assert.ok(pid, "the everything server was started for the run");
  await new Promise((resolve) => setTimeout(resolve, 1500));
  process.kill(pid, "SIGKILL");
  const outcome = await running;
  const asked = requestsFor("SCENARIO-CRASH");
  const afterCrash = results(asked[1]);
  assert.match(afterCrash[0], /the MCP server 'everything' failed during the call of 'trigger-long-running-operation'/);
  assert.match(afterCrash[0], /started again on the next call/);
  const afterRestart = results(asked[2]);
  assert.ok(afterRestart.some((text) => text.includes("Echo: after the restart")), afterRestart.join("\n"));
  assert.match(JSON.stringify(outcome), /restarted/);
});

test("`infiagent mcp serve`: the SDK client lists the tools, routes, runs with progress, and cancels", async () => {
  const transport = new StdioClientTransport({
    command: BIN,
    args: ["mcp", "serve", "-w", workspace],
    stderr: "pipe",
  });
  const client = new Client({ name: "sdk-test", version: "1.0.0" });
  await client.connect(transport);
  try {
    const { tools } = await client.listTools();
    assert.deepEqual(
      tools.map((tool) => tool.name).sort(),
      ["build", "judge", "plan", "route", "run_task", "runs"],
    );
    assert.deepEqual(tools.find((tool) => tool.name === "run_task").inputSchema.required, ["task"]);

    const routed = await client.callTool({ name: "route", arguments: { request: "answer questions about the notes with MCP servers" } });
    assert.equal(routed.isError, false);
    assert.equal(routed.structuredContent.choice.agent, "mcp_user");

    const progress = [];
    const result = await client.callTool(
      { name: "run_task", arguments: { task: "SCENARIO-QUICK: add two numbers", agent: "mcp_user" } },
      undefined,
      { onprogress: (update) => progress.push(update) },
    );
    assert.equal(result.isError, false, JSON.stringify(result));
    assert.match(result.structuredContent.run_id, /^\d{8}-/);
    assert.equal(result.structuredContent.summary, `.infiagent/runs/${result.structuredContent.run_id}/summary.md`);
    assert.equal(result.structuredContent.end, "finished");
    assert.equal(result.structuredContent.output.status, "success");
    assert.ok(progress.some((update) => /mcp_user started/.test(update.message)), JSON.stringify(progress));
    assert.ok(progress.some((update) => /mcp__everything__get-sum/.test(update.message ?? "")), JSON.stringify(progress));

    // A run whose model never answers, cancelled by the client.
    const controller = new AbortController();
    const hanging = client.callTool(
      { name: "run_task", arguments: { task: "SCENARIO-HANG: wait", agent: "mcp_user" } },
      undefined,
      { signal: controller.signal, onprogress: () => {} },
    );
    for (let i = 0; i < 100 && requestsFor("SCENARIO-HANG").length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(requestsFor("SCENARIO-HANG").length, 1, "the run asked the model");
    controller.abort("the user cancelled");
    await assert.rejects(hanging);
    // The run ends as cancelled: `runs` says so once it has.
    let latest;
    for (let i = 0; i < 100; i++) {
      const runs = await client.callTool({ name: "runs", arguments: {} });
      latest = runs.structuredContent.runs[0];
      if (latest.status === "ended") break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.notEqual(latest.run_id, result.structuredContent.run_id, "the newest run is the cancelled one");
    assert.equal(latest.status, "ended", JSON.stringify(latest));
    assert.equal(latest.end, "cancelled", JSON.stringify(latest));

    // Bad input is a clear error, and the server stays up.
    await assert.rejects(
      client.callTool({ name: "judge", arguments: { path: "../outside.txt" } }),
      /is not a file of the workspace/,
    );
    const again = await client.callTool({ name: "runs", arguments: {} });
    assert.equal(again.isError, false);
  } finally {
    await client.close();
  }
});

test("`infiagent mcp serve` in `ask` asks the client through elicitation, and refuses when it cannot ask", async () => {
  const serve = () =>
    new StdioClientTransport({
      command: BIN,
      args: ["mcp", "serve", "-w", workspace, "--autonomy", "ask"],
      stderr: "pipe",
    });
  const asking = new Client({ name: "sdk-test", version: "1.0.0" }, { capabilities: { elicitation: {} } });
  const questions = [];
  asking.setRequestHandler(ElicitRequestSchema, async (request) => {
    questions.push(request.params.message);
    return { action: "accept", content: { answer: "run" } };
  });
  await asking.connect(serve());
  try {
    const result = await asking.callTool({
      name: "run_task",
      arguments: { task: "SCENARIO-SHELL: say it", agent: "mcp_user" },
    });
    assert.equal(result.isError, false, JSON.stringify(result));
    assert.equal(questions.length, 1, JSON.stringify(questions));
    assert.match(questions[0], /mcp_user wants to run `echo consent-given` \(execute_shell\)/);
    const shell = requestsFor("SCENARIO-SHELL").at(-1);
    assert.match(results(shell)[0], /consent-given/);
  } finally {
    await asking.close();
  }

  const silent = new Client({ name: "sdk-test", version: "1.0.0" });
  await silent.connect(serve());
  try {
    const before = requestsFor("SCENARIO-SHELL").length;
    await silent.callTool({ name: "run_task", arguments: { task: "SCENARIO-SHELL: say it again", agent: "mcp_user" } });
    const shell = requestsFor("SCENARIO-SHELL").slice(before).at(-1);
    assert.match(results(shell)[0], /the user did not approve running `echo consent-given`/);
  } finally {
    await silent.close();
  }
});

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// Waits until `child` writes a line matching `pattern` on stderr.
function waitForLine(child, pattern) {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} in: ${seen}`)), 30_000);
    child.stderr.on("data", (chunk) => {
      seen += chunk;
      const match = seen.match(pattern);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    });
  });
}

test("streamable HTTP both ways: agents call a server over HTTP, and `mcp serve --http` answers the SDK client", async () => {
  const port = await freePort();
  const remote = spawn(process.execPath, [EVERYTHING, "streamableHttp"], {
    env: { ...process.env, PORT: String(port) },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const http = fs.mkdtempSync(path.join(os.tmpdir(), "infiagent-mcp-http-"));
  let serve;
  try {
    await waitForLine(remote, /listening on port/);
    fs.mkdirSync(path.join(http, ".infiagent/agents"), { recursive: true });
    fs.writeFileSync(
      path.join(http, ".infiagent/config.toml"),
      `[model]
base_url = ${JSON.stringify(modelUrl)}
name = "fake"
stream = false

[run]
autonomy = "auto"

[mcp.servers.remote]
url = "http://127.0.0.1:${port}/mcp"
headers_from = { "X-Api-Key" = "REMOTE_MCP_TOKEN" }
`,
    );
    fs.writeFileSync(
      path.join(http, ".infiagent/agents/mcp_user.md"),
      `---
name: mcp_user
level: 1
description: Uses a remote MCP server.
tools: [mcp__remote__echo, mcp__remote__get-sum]
---
You use MCP tools.
`,
    );
    const token = "remote-token-value-7";
    const env = { ...process.env, REMOTE_MCP_TOKEN: token };
    const { stdout } = await run(
      BIN,
      ["run", "-w", http, "--agent", "mcp_user", "--json", "SCENARIO-REMOTE: add over HTTP"],
      { timeout: 120_000, env },
    );
    assert.equal(JSON.parse(stdout).end, "finished", stdout);
    const asked = requestsFor("SCENARIO-REMOTE");
    assert.match(results(asked.at(-1))[0], /The sum of 2 and 3 is 5/);
    // The header's value is a secret: not in the run's record.
    const runs = path.join(http, ".infiagent/runs");
    for (const file of fs.readdirSync(runs, { recursive: true })) {
      const full = path.join(runs, file);
      if (fs.statSync(full).isFile()) {
        assert.ok(!fs.readFileSync(full, "utf8").includes(token), file);
      }
    }

    serve = spawn(BIN, ["mcp", "serve", "-w", http, "--http", "127.0.0.1:0"], { stdio: ["ignore", "ignore", "pipe"] });
    const [, url] = await waitForLine(serve, /MCP server at (http:\/\/127\.0\.0\.1:\d+\/mcp)/);
    const client = new Client({ name: "sdk-http-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    try {
      const { tools } = await client.listTools();
      assert.equal(tools.length, 6);
      const routed = await client.callTool({ name: "route", arguments: { request: "use a remote MCP server" } });
      assert.equal(routed.structuredContent.choice.agent, "mcp_user");
    } finally {
      await client.close();
    }
  } finally {
    remote.kill();
    serve?.kill();
  }
});
