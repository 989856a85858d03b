-- The Neovim plugin against the real `infiagent lsp` and the scripted model endpoint:
-- attach, the plan code action with progress, :InfiBuild, :InfiJudge diagnostics,
-- :InfiUndo, :InfiCancel, :InfiRun with ranges, :InfiRuns, :InfiAgents, :InfiEvolve, :checkhealth.
-- Run by tests/nvim/run.sh, which sets the variables below.
local here = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local t = dofile(vim.fs.joinpath(here, "harness.lua"))

local workspace, model_url, binary = t.environment()

vim.cmd("filetype on")

local notifications = {}
vim.notify = function(message, level)
  table.insert(notifications, { message = message, level = level })
end

local progress = {}
vim.api.nvim_create_autocmd("LspProgress", {
  callback = function(event)
    local value = event.data.params.value
    table.insert(progress, { token = event.data.params.token, kind = value.kind, status = vim.lsp.status() })
  end,
})

local started = {}
vim.api.nvim_create_autocmd("User", {
  pattern = "InfiAgentRunStarted",
  callback = function(event)
    table.insert(started, event.data.runId)
  end,
})

local infiagent = require("infiagent")
infiagent.setup({
  cmd = { binary, "lsp" },
  settings = { model = { base_url = model_url, name = "scripted" }, run = { autonomy = "auto" } },
})

local function path(relative)
  return vim.fs.joinpath(workspace, relative)
end

local function write_file(relative, text)
  local file = assert(io.open(path(relative), "w"))
  file:write(text)
  file:close()
  return path(relative)
end

local function exists(relative)
  return vim.uv.fs_stat(path(relative)) ~= nil
end

local function edit(file)
  vim.cmd.edit(vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  t.wait_for("the infiagent client on " .. file, function()
    local client = vim.lsp.get_clients({ bufnr = bufnr, name = "infiagent" })[1]
    return client and client.initialized
  end)
  return bufnr
end

--- The id of the run a command just started (from `User InfiAgentRunStarted`).
local function next_started(before)
  return t.wait_for("a run to start", function()
    return started[before + 1]
  end, 10000)
end

local function wait_end(run_id)
  return t.wait_for("run " .. run_id .. " to end", function()
    local status = infiagent.runs.by_id[run_id]
    return status and status.state ~= "running" and status
  end)
end

local function run_titled(title)
  for _, status in ipairs(infiagent.list_runs()) do
    if status.title == title then
      return status
    end
  end
end

local function buffer_text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n")
end

local function errors_notified()
  return vim.tbl_filter(function(notification)
    return notification.level == vim.log.levels.ERROR
  end, notifications)
end

t.test("one client for the workspace root, with the settings as init_options and configuration", function()
  local bufnr = edit(path("requirement.md"))
  local client = vim.lsp.get_clients({ bufnr = bufnr, name = "infiagent" })[1]
  t.equal(client.root_dir, workspace, "root_dir")
  t.equal(client.config.init_options.model, { base_url = model_url, name = "scripted" }, "init_options.model")
  t.equal(client.settings.infiagent.run, { autonomy = "auto" }, "settings answered to workspace/configuration")
  t.equal(client.server_capabilities.executeCommandProvider.commands[1], "infiagent.run", "the server's commands")
  for _, name in ipairs({ "InfiRun", "InfiPlan", "InfiBuild", "InfiJudge", "InfiCancel", "InfiResume", "InfiUndo", "InfiRuns", "InfiAgents", "InfiEvolve" }) do
    t.truthy(vim.fn.exists(":" .. name) == 2, ":" .. name .. " exists")
  end
end)

t.test("a file under no root gets no client", function()
  local elsewhere = vim.fn.tempname()
  vim.fn.mkdir(elsewhere, "p")
  vim.cmd.edit(vim.fs.joinpath(elsewhere, "lonely.py"))
  vim.wait(300)
  t.equal(#vim.lsp.get_clients({ bufnr = 0, name = "infiagent" }), 0, "clients on a file under no root")
  t.equal(#vim.lsp.get_clients({ name = "infiagent" }), 1, "infiagent clients")
end)

t.test("the plan code action runs the planner with progress and writes the designs", function()
  edit(path("requirement.md"))
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      return action.title == "Plan project from this requirement"
    end,
  })
  local run = t.wait_for("the plan run", function()
    return run_titled("plan requirement.md")
  end, 10000)
  local status = wait_end(run.runId)
  t.equal(status.state, "succeeded", "plan state (" .. status.message .. ")")
  for _, name in ipairs({ "textstats", "numstats", "summary" }) do
    t.truthy(exists("project_designs/project_design_" .. name .. ".md"), "project_design_" .. name .. ".md written")
  end
  local token = "infiagent/run/" .. run.runId
  local kinds, statuses = {}, {}
  for _, event in ipairs(progress) do
    if event.token == token then
      table.insert(kinds, event.kind)
      table.insert(statuses, event.status)
    end
  end
  t.equal(kinds[1], "begin", "first progress")
  t.equal(kinds[#kinds], "end", "last progress")
  t.truthy(#kinds >= 3, "progress reports between begin and end: " .. vim.inspect(kinds))
  t.contains(table.concat(statuses, "\n"), "project_planner_agent", "vim.lsp.status() during the run")
end)

t.test(":InfiBuild builds numstats.py from its design; the judge's success is a code lens, not a diagnostic", function()
  edit(path("project_designs/project_design_numstats.md"))
  local before = #started
  vim.cmd("InfiBuild")
  local status = wait_end(next_started(before))
  t.equal(status.title, "build numstats.py", "title")
  t.equal(status.state, "succeeded", "build state (" .. status.message .. ")")
  t.truthy(exists("numstats.py"), "numstats.py written")
  local script = edit(path("numstats.py"))
  local answers = vim.lsp.buf_request_sync(script, "textDocument/codeLens", {
    textDocument = vim.lsp.util.make_text_document_params(script),
  }, 10000)
  local lens
  for _, answer in pairs(answers or {}) do
    lens = lens or (answer.result or {})[1]
  end
  t.truthy(lens and lens.command.title:find("judged: success", 1, true), "the lens: " .. vim.inspect(answers))
  t.equal(#vim.diagnostic.get(script), 0, "no diagnostic for a success")
end)

t.test(":InfiUndo puts back what the last run changed: the build's numstats.py goes", function()
  vim.cmd("InfiUndo")
  t.wait_for("numstats.py to be removed", function()
    return not exists("numstats.py")
  end, 10000)
  t.equal(#errors_notified(), 0, "no error")
end)

t.test(":InfiJudge on a crashing script: an Error diagnostic at line 2 from infiagent", function()
  local bufnr = edit(write_file("broken.py", "def f():\n    return 1\nraise ValueError('boom')\n"))
  local before = #started
  vim.cmd("InfiJudge")
  local status = wait_end(next_started(before))
  t.equal(status.state, "failed", "judge state")
  t.contains(status.message, "judge_agent ended with an error", "message")
  local diagnostics = t.wait_for("an error diagnostic on broken.py", function()
    local found = vim.diagnostic.get(bufnr, { severity = vim.diagnostic.severity.ERROR })
    return #found > 0 and found
  end, 10000)
  t.equal(#diagnostics, 1, "error diagnostics")
  t.equal(diagnostics[1].lnum, 2, "line (0-based)")
  t.equal(diagnostics[1].source, "infiagent", "source")
  t.contains(diagnostics[1].message, "ValueError: boom", "diagnostic message")
end)

t.test(":InfiBuild on a file that is no design shows the server's error", function()
  edit(path("broken.py"))
  local before = #errors_notified()
  vim.cmd("InfiBuild")
  local notified = t.wait_for("an error notification", function()
    return errors_notified()[before + 1]
  end, 10000)
  t.contains(notified.message, "broken.py is not a design file", "notification")
end)

t.test(":InfiCancel picks the running run and cancels it", function()
  edit(write_file("slow.py", "import time\ntime.sleep(60)\n"))
  local before = #started
  vim.cmd("InfiJudge")
  local run_id = next_started(before)
  t.wait_for("the slow run to be running", function()
    local status = infiagent.runs.by_id[run_id]
    return status and status.state == "running"
  end, 10000)
  t.contains(infiagent.statusline(), "judge_agent", "statusline while running")
  local offered
  local select = vim.ui.select
  vim.ui.select = function(items, opts, on_choice)
    offered = vim.tbl_map(function(item)
      return opts.format_item(item)
    end, items)
    on_choice(items[1], 1)
  end
  vim.cmd("InfiCancel")
  local status = wait_end(run_id)
  vim.ui.select = select
  t.equal(status.state, "cancelled", "state")
  t.equal(#offered, 1, "runs offered: " .. vim.inspect(offered))
  t.contains(offered[1], "judge slow.py", "the offered run")
  t.contains(offered[1], run_id, "the offered run's id")
  t.equal(infiagent.statusline(), "", "statusline after the run")
end)

t.test(":InfiCancel {runId} cancels that run; :InfiRun with a line range makes the lines the task", function()
  edit(path("slow.py"))
  local before = #started
  vim.cmd("InfiJudge")
  local slow = next_started(before)
  before = #started
  vim.cmd("2InfiRun")
  local from_range = next_started(before)
  vim.cmd("InfiCancel " .. slow)
  t.equal(wait_end(slow).state, "cancelled", "state of the cancelled run")
  vim.cmd("InfiCancel " .. from_range)
  wait_end(from_range)
  t.equal(infiagent.runs.by_id[from_range].title, "time.sleep(60)", "title of the run on line 2")
end)

t.test(":InfiRun with a characterwise selection, and with a prompt when no task is given", function()
  edit(path("broken.py"))
  vim.cmd("normal! 3G0wve\27")
  local before = #started
  vim.cmd("'<,'>InfiRun")
  local selected = next_started(before)
  local input = vim.ui.input
  local prompted
  vim.ui.input = function(opts, on_confirm)
    prompted = opts.prompt
    on_confirm("Say hello from the editor")
  end
  vim.cmd("enew")
  before = #started
  vim.cmd("InfiRun")
  local asked = next_started(before)
  vim.ui.input = input
  for _, run_id in ipairs({ selected, asked }) do
    vim.cmd("InfiCancel " .. run_id)
    wait_end(run_id)
  end
  t.equal(infiagent.runs.by_id[selected].title, "ValueError", "title of the run on the selection")
  t.equal(prompted, "InfiAgent task: ", "prompt")
  t.equal(infiagent.runs.by_id[asked].title, "Say hello from the editor", "title of the prompted run")
end)

t.test(":InfiRuns lists the session's runs; <CR> opens a run's record", function()
  edit(path("requirement.md"))
  vim.cmd("InfiRuns")
  local bufnr = t.wait_for_buffer("infiagent://runs", 2)
  local text = buffer_text(bufnr)
  for _, fragment in ipairs({ "plan requirement.md", "build numstats.py", "judge broken.py", "cancelled" }) do
    t.contains(text, fragment, ":InfiRuns buffer")
  end
  vim.api.nvim_set_current_win(vim.fn.bufwinid(bufnr))
  local lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  for index, line in ipairs(lines) do
    if line:find("plan requirement.md", 1, true) then
      vim.api.nvim_win_set_cursor(0, { index, 0 })
    end
  end
  vim.api.nvim_feedkeys(vim.keycode("<CR>"), "x", false)
  local opened = vim.api.nvim_buf_get_name(0)
  t.truthy(opened:find("/.infiagent/runs/", 1, true), "opened a run record: " .. opened)
  t.truthy(opened:match("summary%.md$") or opened:match("run%.json$"), "the summary or run.json: " .. opened)
end)

t.test(":InfiAgents shows the pyramid by level", function()
  vim.cmd("InfiAgents")
  local bufnr = t.wait_for_buffer("infiagent://agents", 2)
  local text = buffer_text(bufnr)
  local level3, level1, judge = text:find("Level 3", 1, true), text:find("Level 1", 1, true), text:find("Judge (level -1)", 1, true)
  t.truthy(level3 and level1 and judge and level3 < level1 and level1 < judge, "levels, highest first:\n" .. text)
  t.contains(text, "project_lead_agent", ":InfiAgents buffer")
end)

t.test(":InfiEvolve shows the proposal for the pyramid", function()
  vim.cmd("InfiEvolve")
  local bufnr = t.wait_for_buffer("infiagent://evolve", 1)
  t.truthy(buffer_text(bufnr):find("^Read %d+ run%(s%)"), "the proposal:\n" .. buffer_text(bufnr))
  t.equal(vim.bo[bufnr].filetype, "diff", "shown as a diff")
end)

t.test(":checkhealth infiagent finds the binary, its version and the model", function()
  edit(path("requirement.md"))
  vim.cmd("checkhealth infiagent")
  local text = buffer_text(vim.api.nvim_get_current_buf())
  local version = vim.trim(vim.system({ binary, "--version" }, { text = true }):wait().stdout)
  t.contains(text, binary .. ": " .. version, "checkhealth output")
  t.contains(text, "model scripted at " .. model_url, "checkhealth output")
  t.truthy(not text:find("ERROR", 1, true), "no ERROR in:\n" .. text)
end)

t.finish()
