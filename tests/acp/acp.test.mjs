// `infiagent acp` driven by the client side of the official ACP TypeScript SDK
// (@agentclientprotocol/sdk), against the scripted demo model served on
// loopback by `infiagent demo --lsp`: a turn that plans and builds two scripts
// (files written through the client's fs/write_text_file), a permission request
// answered, a turn cancelled while it waits, a past session loaded, bad input.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { Readable, Writable } from "node:stream";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as acp from "@agentclientprotocol/sdk";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const BINARY = process.env.INFIAGENT_BIN ?? path.join(root, "target/debug/infiagent");

let workspace;
let demo;

before(async () => {
  assert.ok(fs.existsSync(BINARY), `${BINARY} is missing: run cargo build first`);
  workspace = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "infiagent-acp-")));
  // The demo workspace: requirement.md and a configuration naming the scripted
  // model, served until this process stops.
  demo = spawn(BINARY, ["demo", "--lsp", workspace], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: demo.stdout });
  for await (const line of lines) {
    if (line.startsWith("Serving the model until Ctrl-C.")) break;
  }
});

after(() => {
  demo?.kill();
  if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
});

/** A client connected to a new `infiagent acp`, recording what it is sent. */
function startClient({ onPermission } = {}) {
  const agent = spawn(BINARY, ["acp"], { cwd: workspace, stdio: ["pipe", "pipe", "inherit"] });
  const seen = { updates: [], permissions: [], writes: [], reads: [] };
  const app = acp
    .client({ name: "infiagent-acp-test" })
    .onNotification(acp.methods.client.session.update, ({ params }) => {
      seen.updates.push(params.update);
    })
    .onRequest(acp.methods.client.session.requestPermission, async ({ params }) => {
      seen.permissions.push(params);
      return onPermission
        ? onPermission(params)
        : { outcome: { outcome: "selected", optionId: "allow-once" } };
    })
    .onRequest(acp.methods.client.fs.readTextFile, ({ params }) => {
      seen.reads.push(params.path);
      return { content: fs.readFileSync(params.path, "utf8") };
    })
    .onRequest(acp.methods.client.fs.writeTextFile, ({ params }) => {
      seen.writes.push(params.path);
      fs.writeFileSync(params.path, params.content);
      return {};
    });
  const stream = acp.ndJsonStream(Writable.toWeb(agent.stdin), Readable.toWeb(agent.stdout));
  const connection = app.connect(stream);
  return { agent, seen, ctx: connection.agent, connection };
}

async function initialize(ctx) {
  return ctx.request(acp.methods.agent.initialize, {
    protocolVersion: acp.PROTOCOL_VERSION,
    clientCapabilities: { fs: { readTextFile: true, writeTextFile: true } },
    clientInfo: { name: "infiagent-acp-test", version: "1" },
  });
}

function kinds(updates) {
  return updates.map((update) => update.sessionUpdate);
}

function text(updates, kind = "agent_message_chunk") {
  return updates
    .filter((update) => update.sessionUpdate === kind)
    .map((update) => update.content.text)
    .join("");
}

let sessionId;

test("a turn plans and builds two scripts, streamed as plan, tool calls and messages", async () => {
  const { agent, seen, ctx, connection } = startClient();
  try {
    const init = await initialize(ctx);
    assert.equal(init.protocolVersion, 1);
    assert.equal(init.agentCapabilities.loadSession, true);
    assert.equal(init.agentCapabilities.promptCapabilities.embeddedContext, true);
    assert.equal(init.agentInfo.name, "infiagent");

    const session = await ctx.request(acp.methods.agent.session.new, { cwd: workspace, mcpServers: [] });
    sessionId = session.sessionId;
    assert.equal(session.modes.currentModeId, "auto");
    assert.deepEqual(
      session.modes.availableModes.map((mode) => mode.id),
      ["ask", "auto", "review"],
    );

    const requirement = path.join(workspace, "requirement.md");
    const response = await ctx.request(acp.methods.agent.session.prompt, {
      sessionId,
      prompt: [
        { type: "text", text: "Build the project described in requirement.md" },
        { type: "resource_link", uri: `file://${requirement}`, name: "requirement.md" },
      ],
    });
    assert.equal(response.stopReason, "end_turn");

    const updates = seen.updates;
    const commands = updates.find((update) => update.sessionUpdate === "available_commands_update");
    assert.deepEqual(
      commands.availableCommands.map((command) => command.name),
      ["plan", "build", "judge", "agents", "route", "undo", "resume"],
    );
    // The pyramid as a plan: the top agent, the planner, both builders, the judge.
    const plans = updates.filter((update) => update.sessionUpdate === "plan");
    const last = plans.at(-1).entries.map((entry) => entry.content).join("\n");
    for (const agentName of ["project_lead_agent", "project_planner_agent", "code_builder_agent(", "judge_agent"]) {
      assert.ok(last.includes(agentName), `${agentName} not in the plan:\n${last}`);
    }
    assert.ok(plans.at(-1).entries.every((entry) => entry.status === "completed"), last);
    assert.ok(plans.some((plan) => plan.entries.some((entry) => entry.status === "in_progress")));

    // Each agent call and each tool call is a tool call, started then finished.
    const started = updates.filter((update) => update.sessionUpdate === "tool_call");
    const finished = updates.filter((update) => update.sessionUpdate === "tool_call_update" && update.status);
    const planner = started.find((call) => call.title.startsWith("project_planner_agent"));
    assert.equal(planner.kind, "think");
    const write = started.find((call) => call.title === "file_write numstats.py");
    assert.equal(write.kind, "edit");
    assert.equal(write.locations[0].path, path.join(workspace, "numstats.py"));
    const run = started.find((call) => call.kind === "execute");
    assert.ok(run, kinds(updates).join(" "));
    for (const call of [planner, write, run]) {
      assert.ok(
        finished.some((update) => update.toolCallId === call.toolCallId && ["completed", "failed"].includes(update.status)),
        `${call.title} never finished`,
      );
    }
    // An edit shows its diff.
    const diff = finished
      .find((update) => update.toolCallId === write.toolCallId)
      .content.find((content) => content.type === "diff");
    assert.equal(diff.path, path.join(workspace, "numstats.py"));
    assert.ok(diff.newText.includes("def "));
    // The judge's verdict is the content of its call.
    assert.ok(
      updates.some(
        (update) => update.sessionUpdate === "tool_call_update" && update.content?.some((content) => content.content?.text?.startsWith("Verdict:")),
      ),
      "no verdict shown",
    );
    // Usage: tokens of the run against its budget, and its cost.
    const usage = updates.filter((update) => update.sessionUpdate === "usage_update").at(-1);
    assert.ok(usage.used > 0 && usage.size >= usage.used, JSON.stringify(usage));
    assert.equal(usage.cost.currency, "USD");
    // The run's end, in words.
    assert.match(text(updates), /run \d{8}-/);

    // The scripts and designs were written through the client.
    for (const file of ["textstats.py", "numstats.py", "project_designs/project_design_summary.md"]) {
      assert.ok(seen.writes.includes(path.join(workspace, file)), `${file} not written through the client`);
      assert.ok(fs.existsSync(path.join(workspace, file)));
    }
    assert.ok(seen.reads.length > 0, "nothing read through the client");
  } finally {
    connection.close();
    agent.kill();
  }
});

test("a permission request is answered; a turn waiting on one is cancelled", async () => {
  let release;
  const asked = new Promise((resolve) => (release = resolve));
  let answer = { outcome: { outcome: "selected", optionId: "allow-once" } };
  const { agent, seen, ctx, connection } = startClient({
    onPermission: async (params) => {
      release(params);
      return answer;
    },
  });
  try {
    await initialize(ctx);
    // Loading the session of the first test: its turn is told again first.
    await ctx.request(acp.methods.agent.session.load, { sessionId, cwd: workspace, mcpServers: [] });
    assert.equal(seen.updates[0].sessionUpdate, "user_message_chunk");
    assert.equal(seen.updates[0].content.text, "Build the project described in requirement.md");
    assert.ok(seen.updates.some((update) => update.sessionUpdate === "tool_call" && update.title === "file_write numstats.py"));
    assert.match(text(seen.updates), /run \d{8}-/);
    seen.updates.length = 0;

    // In ask mode, running a script this turn did not write needs consent.
    await ctx.request(acp.methods.agent.session.setMode, { sessionId, modeId: "ask" });
    assert.ok(seen.updates.some((update) => update.sessionUpdate === "current_mode_update" && update.currentModeId === "ask"));
    const judged = await ctx.request(acp.methods.agent.session.prompt, {
      sessionId,
      prompt: [{ type: "text", text: "/judge textstats.py" }],
    });
    assert.equal(judged.stopReason, "end_turn");
    const permission = await asked;
    assert.match(permission.toolCall.title, /wants to run execute_code: textstats\.py/);
    assert.deepEqual(
      permission.options.map((option) => option.kind),
      ["allow_once", "allow_always", "reject_once"],
    );
    // The request names the call it is about.
    assert.ok(
      seen.updates.some((update) => update.sessionUpdate === "tool_call" && update.toolCallId === permission.toolCall.toolCallId),
    );
    assert.match(text(seen.updates), /Verified|verdict|rejected|success/i);

    // Cancel while the next turn waits for the user: the turn ends `cancelled`.
    const waiting = new Promise((resolve) => (release = resolve));
    answer = waiting.then(async () => {
      await ctx.notify(acp.methods.agent.session.cancel, { sessionId });
      return { outcome: { outcome: "cancelled" } };
    });
    const cancelled = await ctx.request(acp.methods.agent.session.prompt, {
      sessionId,
      prompt: [{ type: "text", text: "/judge numstats.py" }],
    });
    assert.equal(cancelled.stopReason, "cancelled");

    // In review mode the turn's writes wait for the user, shown as diffs.
    answer = { outcome: { outcome: "selected", optionId: "allow-once" } };
    await ctx.request(acp.methods.agent.session.setMode, { sessionId, modeId: "review" });
    seen.updates.length = 0;
    seen.writes.length = 0;
    const planned = await ctx.request(acp.methods.agent.session.prompt, {
      sessionId,
      prompt: [{ type: "text", text: "/plan requirement.md" }],
    });
    assert.equal(planned.stopReason, "end_turn");
    const review = seen.updates.find((update) => update.sessionUpdate === "tool_call" && update.toolCallId.startsWith("review-"));
    assert.ok(review, kinds(seen.updates).join(" "));
    assert.match(review.title, /Apply the 3 file changes of this turn/);
    assert.ok(review.content.every((content) => content.type === "diff"));
    assert.ok(seen.writes.includes(path.join(workspace, "project_designs/project_design_summary.md")));
    assert.ok(
      seen.updates.some((update) => update.toolCallId === review.toolCallId && update.status === "completed"),
    );

    // /build: every script of the build order, a call each.
    await ctx.request(acp.methods.agent.session.setMode, { sessionId, modeId: "auto" });
    seen.updates.length = 0;
    const built = await ctx.request(acp.methods.agent.session.prompt, {
      sessionId,
      prompt: [{ type: "text", text: "/build" }],
    });
    assert.equal(built.stopReason, "end_turn");
    for (const script of ["textstats.py", "numstats.py"]) {
      const call = seen.updates.find((update) => update.sessionUpdate === "tool_call" && update.title === `build ${script}`);
      assert.ok(call, `no build call for ${script}: ${kinds(seen.updates).join(" ")}`);
      assert.ok(
        seen.updates.some((update) => update.toolCallId === call.toolCallId && ["completed", "failed"].includes(update.status)),
      );
    }
    assert.match(text(seen.updates), /scripts/);

    // The server stays up: errors for what cannot be done, answers for the rest.
    await assert.rejects(
      ctx.request(acp.methods.agent.session.prompt, { sessionId: "s-unknown", prompt: [{ type: "text", text: "hi" }] }),
      /no session s-unknown/,
    );
    await assert.rejects(
      ctx.request(acp.methods.agent.session.prompt, { sessionId, prompt: [{ type: "text", text: "/deploy" }] }),
      /unknown command \/deploy/,
    );
    await assert.rejects(
      ctx.request(acp.methods.agent.session.prompt, {
        sessionId,
        prompt: [{ type: "resource_link", uri: `file://${path.join(workspace, "numstats.py")}`, name: "numstats.py" }],
      }),
      /no task/,
    );
    seen.updates.length = 0;
    const listed = await ctx.request(acp.methods.agent.session.prompt, {
      sessionId,
      prompt: [{ type: "text", text: "/agents" }],
    });
    assert.equal(listed.stopReason, "end_turn");
    assert.match(text(seen.updates), /\*\*project_lead_agent\*\*/);
  } finally {
    connection.close();
    agent.kill();
  }
});

test("malformed JSON and unknown methods get JSON-RPC errors; the server stays up", async () => {
  const agent = spawn(BINARY, ["acp"], { cwd: workspace, stdio: ["pipe", "pipe", "inherit"] });
  const replies = createInterface({ input: agent.stdout })[Symbol.asyncIterator]();
  const next = async () => JSON.parse((await replies.next()).value);
  try {
    agent.stdin.write("{not json\n");
    const parse = await next();
    assert.equal(parse.error.code, -32700, JSON.stringify(parse));
    agent.stdin.write(
      JSON.stringify({ jsonrpc: "2.0", id: 2, method: "initialize", params: { protocolVersion: 1 } }) + "\n",
    );
    const init = await next();
    assert.equal(init.id, 2);
    assert.equal(init.result.protocolVersion, 1, JSON.stringify(init));
    agent.stdin.write(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "session/teleport", params: {} }) + "\n");
    const unknown = await next();
    assert.equal(unknown.id, 1);
    assert.equal(unknown.error.code, -32601, JSON.stringify(unknown));
    agent.stdin.write(
      JSON.stringify({ jsonrpc: "2.0", id: 3, method: "session/new", params: { cwd: "relative/dir", mcpServers: [] } }) + "\n",
    );
    const relative = await next();
    assert.equal(relative.id, 3);
    assert.ok(relative.error, JSON.stringify(relative));
  } finally {
    agent.kill();
  }
});
