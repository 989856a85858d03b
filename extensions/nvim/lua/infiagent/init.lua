--- InfiAgent for Neovim: starts `infiagent lsp` for the workspace and adds commands
--- that run the agent pyramid. Progress goes through standard LSP work-done progress
--- (`vim.lsp.status()`, fidget.nvim, the `LspProgress` event); the judge's verdicts
--- are diagnostics with source `infiagent`.
---
--- ```lua
--- require("infiagent").setup({
---   settings = { model = { base_url = "http://127.0.0.1:11434/v1", name = "qwen2.5-coder:7b" } },
--- })
--- ```
local M = {}

--- Client name, also the name of the `vim.lsp.config` entry.
M.name = "infiagent"

local defaults = {
  --- The server command.
  cmd = { "infiagent", "lsp" },
  --- The `infiagent` settings, the same keys as `.infiagent/config.toml`
  --- (`{ model = { base_url, name, api_key_env, provider }, run = { autonomy, ... } }`).
  --- Sent as `initializationOptions` and answered to `workspace/configuration`.
  settings = {},
  --- The workspace root is the nearest folder holding one of these, in this order.
  root_markers = { ".infiagent", "requirement.md", "project_designs", ".git" },
  --- Filetypes to attach to; nil: every file buffer.
  filetypes = nil,
}

--- The options in effect (after `setup`).
M.options = vim.deepcopy(defaults)

--- Runs of this session by id, and their ids in start order.
M.runs = { by_id = {}, order = {} }

local function notify(message, level)
  vim.notify("InfiAgent: " .. message, level or vim.log.levels.INFO)
end

--- A copy in which every empty table is a JSON object (`{}`), never `[]`.
local function json_object(value)
  if type(value) ~= "table" then
    return value
  end
  if next(value) == nil then
    return vim.empty_dict()
  end
  local copy = {}
  for key, item in pairs(value) do
    copy[key] = json_object(item)
  end
  return copy
end

local has_011 = vim.fn.has("nvim-0.11") == 1

--- `client:request` on 0.11+, `client.request` before.
local function client_request(client, method, params, handler, bufnr)
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

--- The infiagent client of `bufnr` (default: current), else any infiagent client.
function M.client(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local clients = vim.lsp.get_clients({ name = M.name, bufnr = bufnr })
  if #clients == 0 then
    clients = vim.lsp.get_clients({ name = M.name })
  end
  return clients[1]
end

--- Sends `workspace/executeCommand`; `on_result(result)` on success, a notification on error.
function M.execute(command, argument, on_result, bufnr)
  local client = M.client(bufnr)
  if not client then
    notify(
      "no infiagent server for this buffer: open a file under a workspace root ("
        .. table.concat(M.options.root_markers, ", ")
        .. "), or see :checkhealth infiagent",
      vim.log.levels.ERROR
    )
    return
  end
  local params = { command = command, arguments = argument == nil and {} or { argument } }
  client_request(client, "workspace/executeCommand", params, function(err, result)
    if err then
      notify(err.message or vim.inspect(err), vim.log.levels.ERROR)
      return
    end
    if on_result then
      on_result(result)
    end
  end, bufnr)
end

--- Handles `infiagent/runStatus`: keeps the runs list and fires `User InfiAgentRunStatus`.
function M.on_run_status(status)
  if type(status) ~= "table" or not status.runId then
    return
  end
  if not M.runs.by_id[status.runId] then
    table.insert(M.runs.order, status.runId)
  end
  M.runs.by_id[status.runId] = status
  vim.api.nvim_exec_autocmds("User", { pattern = "InfiAgentRunStatus", modeline = false, data = status })
end

--- Runs of this session, oldest first.
function M.list_runs()
  local list = {}
  for _, id in ipairs(M.runs.order) do
    table.insert(list, M.runs.by_id[id])
  end
  return list
end

--- The working agent of a run: the innermost call of its first stack.
local function active_agent(status)
  local stack = status.stack and status.stack[1]
  if not stack or stack == "" then
    return status.agent
  end
  local parts = vim.split(stack, " › ", { plain = true })
  local innermost = parts[#parts]
  return vim.trim(innermost:gsub("%(.*$", ""):gsub(" %[.*$", ""))
end

--- For a statusline: the newest running run's agent and cost, or "".
function M.statusline()
  for index = #M.runs.order, 1, -1 do
    local status = M.runs.by_id[M.runs.order[index]]
    if status.state == "running" then
      return string.format("%s · $%.4f", active_agent(status), status.totals and status.totals.cost_usd or 0)
    end
  end
  return ""
end

local function buffer_uri(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" or vim.bo[bufnr].buftype ~= "" then
    return nil
  end
  return vim.uri_from_fname(vim.fn.fnamemodify(name, ":p"))
end

--- The LSP range of a command's line range; character-precise when it came from a
--- characterwise Visual selection.
local function command_range(bufnr, opts)
  if not opts or opts.range == 0 then
    return nil
  end
  local client = M.client(bufnr)
  local encoding = client and client.offset_encoding or "utf-16"
  local function character(row, byte_col)
    local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
    byte_col = math.min(byte_col, #line)
    if has_011 then
      return vim.str_utfindex(line, encoding, byte_col, false)
    end
    if encoding == "utf-8" then
      return byte_col
    end
    local utf32, utf16 = vim.str_utfindex(line, byte_col)
    return encoding == "utf-32" and utf32 or utf16
  end
  local start_mark = vim.api.nvim_buf_get_mark(bufnr, "<")
  local end_mark = vim.api.nvim_buf_get_mark(bufnr, ">")
  if vim.fn.visualmode() == "v" and start_mark[1] == opts.line1 and end_mark[1] == opts.line2 then
    local end_line = vim.api.nvim_buf_get_lines(bufnr, end_mark[1] - 1, end_mark[1], false)[1] or ""
    -- The end mark is on the last selected byte: include its whole character.
    local end_byte = end_mark[2] + 1
    if end_mark[2] < #end_line then
      end_byte = vim.str_utf_end(end_line, end_mark[2] + 1) + end_mark[2] + 1
    end
    return {
      start = { line = start_mark[1] - 1, character = character(start_mark[1] - 1, start_mark[2]) },
      ["end"] = { line = end_mark[1] - 1, character = character(end_mark[1] - 1, end_byte) },
    }
  end
  local last = vim.api.nvim_buf_get_lines(bufnr, opts.line2 - 1, opts.line2, false)[1] or ""
  return {
    start = { line = opts.line1 - 1, character = 0 },
    ["end"] = { line = opts.line2 - 1, character = character(opts.line2 - 1, #last) },
  }
end

local function on_started(result)
  if result and result.runId then
    vim.api.nvim_exec_autocmds("User", { pattern = "InfiAgentRunStarted", modeline = false, data = result })
  end
end

--- `:InfiRun [task]`: the task (asked for when empty), with the buffer and its range.
function M.run(task, opts)
  local bufnr = vim.api.nvim_get_current_buf()
  local uri = buffer_uri(bufnr)
  local range = uri and command_range(bufnr, opts) or nil
  local function send(text)
    if text == nil then
      return
    end
    if vim.trim(text) == "" and not range then
      notify("type a task, or select the text that describes it", vim.log.levels.WARN)
      return
    end
    local argument = vim.empty_dict()
    if vim.trim(text) ~= "" then
      argument.task = text
    end
    if uri then
      argument.uri = uri
      argument.range = range
    end
    M.execute("infiagent.run", argument, on_started, bufnr)
  end
  if task and vim.trim(task) ~= "" then
    send(task)
  elseif range then
    send("")
  else
    vim.ui.input({ prompt = "InfiAgent task: " }, send)
  end
end

local function run_on_buffer(command, what, with_range)
  return function(opts)
    local bufnr = vim.api.nvim_get_current_buf()
    local uri = buffer_uri(bufnr)
    if not uri then
      notify("open " .. what .. " first", vim.log.levels.WARN)
      return
    end
    local argument = { uri = uri }
    if with_range then
      argument.range = command_range(bufnr, opts)
    end
    M.execute(command, argument, on_started, bufnr)
  end
end

--- `:InfiPlan`: plans the project from the requirement in the buffer (or its range).
M.plan = run_on_buffer("infiagent.plan", "a requirement (Markdown)", true)
--- `:InfiBuild`: builds the script of the design file in the buffer.
M.build = run_on_buffer("infiagent.build", "a design file (project_designs/project_design_<script>.md)", false)
--- `:InfiJudge`: judges the file in the buffer.
M.judge = run_on_buffer("infiagent.judge", "the file to judge", false)

local function describe_run(status)
  return string.format(
    "%-9s %-28s %-22s $%.4f  %s",
    status.state,
    status.title,
    status.agent,
    status.totals and status.totals.cost_usd or 0,
    status.runId
  )
end

--- One of the session's runs for which `fits` is true, newest first, picked with
--- `vim.ui.select` (`prompt`); `none` is said when there is none.
local function pick_run(fits, prompt, none, on_pick)
  M.execute("infiagent.runs", nil, function(result)
    local offered = {}
    for _, status in ipairs(result and result.runs or {}) do
      M.on_run_status(status)
      if fits(status) then
        table.insert(offered, 1, status)
      end
    end
    if #offered == 0 then
      notify(none)
      return
    end
    vim.ui.select(offered, { prompt = prompt, format_item = describe_run }, function(choice)
      if choice then
        on_pick(choice.runId)
      end
    end)
  end)
end

--- Runs `command` on the run `run_id`, or on one picked among those `fits`.
local function on_run(command, run_id, fits, prompt, none)
  local function send(id)
    M.execute(command, { runId = id })
  end
  if run_id and run_id ~= "" then
    send(run_id)
  else
    pick_run(fits, prompt, none, send)
  end
end

--- `:InfiCancel [runId]`: cancels the run, or one picked among the running ones.
function M.cancel(run_id)
  on_run("infiagent.cancel", run_id, function(status)
    return status.state == "running"
  end, "Cancel which run?", "no run is running")
end

--- `:InfiResume [runId]`: goes on with the run, or one picked among the runs
--- that stopped before their end.
function M.resume(run_id)
  on_run("infiagent.resume", run_id, function(status)
    return status.resumable == true
  end, "Resume which run?", "no run of this session stopped before its end")
end

--- `:InfiUndo[!] [runId]`: puts back the files of the run (default: the last
--- run not undone); with `!` files changed since the run are overwritten too.
function M.undo(run_id, force)
  local argument = { force = force or false }
  if run_id and run_id ~= "" then
    argument.runId = run_id
  end
  M.execute("infiagent.undo", argument)
end

--- A scratch buffer named `name` (reused), filled with `lines`, in a split.
local function show_scratch(name, lines, filetype)
  local bufnr = vim.fn.bufnr(name)
  if bufnr == -1 then
    bufnr = vim.api.nvim_create_buf(false, true)
    vim.api.nvim_buf_set_name(bufnr, name)
    vim.bo[bufnr].bufhidden = "hide"
  end
  vim.bo[bufnr].modifiable = true
  vim.api.nvim_buf_set_lines(bufnr, 0, -1, false, lines)
  vim.bo[bufnr].modifiable = false
  vim.bo[bufnr].filetype = filetype or ""
  if vim.fn.bufwinid(bufnr) == -1 then
    vim.cmd("botright split")
    vim.api.nvim_win_set_buf(0, bufnr)
  end
  return bufnr
end

--- The record file of a run to open: summary.md, else run.json, else trajectory.jsonl.
function M.record_file(status)
  for _, name in ipairs({ "summary.md", "run.json", "trajectory.jsonl" }) do
    local file = vim.fs.joinpath(status.record, name)
    if vim.uv.fs_stat(file) then
      return file
    end
  end
  return nil
end

--- `:InfiRuns`: the session's runs in a scratch buffer; <CR> opens a run's record.
function M.show_runs()
  M.execute("infiagent.runs", nil, function(result)
    local runs = result and result.runs or {}
    local lines = { "InfiAgent runs (newest first; <CR> opens the record)", "" }
    local by_line = {}
    for index = #runs, 1, -1 do
      local status = runs[index]
      M.on_run_status(status)
      table.insert(lines, describe_run(status))
      by_line[#lines] = status
      if status.message ~= "" then
        table.insert(lines, "    " .. status.message)
      end
    end
    if #runs == 0 then
      table.insert(lines, "No runs yet: :InfiRun, :InfiPlan, :InfiBuild, :InfiJudge or a code action.")
    end
    local bufnr = show_scratch("infiagent://runs", lines, "infiagentruns")
    vim.keymap.set("n", "<CR>", function()
      local line = vim.api.nvim_win_get_cursor(0)[1]
      local status = by_line[line] or by_line[line - 1]
      local file = status and M.record_file(status)
      if file then
        vim.cmd.edit(vim.fn.fnameescape(file))
      elseif status then
        notify(status.runId .. " has no record yet")
      end
    end, { buffer = bufnr, desc = "Open the run's record" })
  end)
end

--- `:InfiAgents`: the pyramid by level in a scratch buffer.
function M.show_agents()
  M.execute("infiagent.agents", nil, function(result)
    local graph = result and result.graph or { nodes = {} }
    local by_level = {}
    local levels = {}
    for _, node in ipairs(graph.nodes or {}) do
      if not by_level[node.level] then
        by_level[node.level] = {}
        table.insert(levels, node.level)
      end
      table.insert(by_level[node.level], node)
    end
    table.sort(levels, function(left, right)
      return left > right
    end)
    local lines = { "InfiAgent pyramid", "" }
    for _, problem in ipairs(result and result.problems or {}) do
      table.insert(lines, "problem: " .. problem)
    end
    for _, level in ipairs(levels) do
      table.insert(lines, level < 1 and string.format("Judge (level %d)", level) or string.format("Level %d", level))
      for _, node in ipairs(by_level[level]) do
        table.insert(lines, string.format("  %s  [%s]", node.name, table.concat(node.tools or {}, ", ")))
        table.insert(lines, "      " .. (node.description or ""))
      end
    end
    show_scratch("infiagent://agents", lines, "infiagentagents")
  end)
end

--- `:InfiEvolve`: the server's proposal to evolve the pyramid (prune, split,
--- router examples) as a diff in a scratch buffer; `:InfiEvolve!` writes it.
function M.evolve(opts)
  local apply = opts and opts.bang or false
  M.execute("infiagent.evolve", { apply = apply }, function(result)
    if not result then
      return
    end
    if apply then
      if result.refused then
        notify(result.refused, vim.log.levels.WARN)
      elseif not result.applying then
        notify("no changes to propose to the pyramid")
      end
      return
    end
    show_scratch("infiagent://evolve", vim.split(result.text or "", "\n", { plain = true }), "diff")
  end)
end

local function running_ids()
  local ids = {}
  for _, status in ipairs(M.list_runs()) do
    if status.state == "running" then
      table.insert(ids, status.runId)
    end
  end
  return ids
end

local function create_commands()
  local command = vim.api.nvim_create_user_command
  command("InfiRun", function(opts)
    M.run(opts.args, opts)
  end, { nargs = "*", range = true, desc = "InfiAgent: run a task (the range: the selection)" })
  command("InfiPlan", M.plan, { range = true, desc = "InfiAgent: plan the project from this requirement" })
  command("InfiBuild", M.build, { desc = "InfiAgent: build the script of this design file" })
  command("InfiJudge", M.judge, { desc = "InfiAgent: judge this file" })
  command("InfiCancel", function(opts)
    M.cancel(opts.args)
  end, { nargs = "?", complete = running_ids, desc = "InfiAgent: cancel a run" })
  command("InfiResume", function(opts)
    M.resume(opts.args)
  end, { nargs = "?", desc = "InfiAgent: go on with a run that stopped" })
  command("InfiUndo", function(opts)
    M.undo(opts.args, opts.bang)
  end, { nargs = "?", bang = true, desc = "InfiAgent: put back the files a run changed (!: also those changed since)" })
  command("InfiRuns", M.show_runs, { desc = "InfiAgent: the session's runs" })
  command("InfiAgents", M.show_agents, { desc = "InfiAgent: the agent pyramid" })
  command("InfiEvolve", M.evolve, { bang = true, desc = "InfiAgent: propose changes to the pyramid (!: write them)" })
end

--- The client configuration (for `vim.lsp.config` and `vim.lsp.start`).
local function client_config()
  local options = M.options
  local settings = json_object(options.settings or {})
  return {
    name = M.name,
    cmd = options.cmd,
    filetypes = options.filetypes,
    root_markers = options.root_markers,
    init_options = settings,
    -- Answers `workspace/configuration` for the section `infiagent`.
    settings = { infiagent = settings },
    handlers = {
      ["infiagent/runStatus"] = function(_, status)
        M.on_run_status(status)
      end,
    },
  }
end

--- The workspace root of `bufnr`, or nil when it is not a file under one.
function M.root(bufnr)
  if vim.bo[bufnr].buftype ~= "" or vim.api.nvim_buf_get_name(bufnr) == "" then
    return nil
  end
  return vim.fs.root(bufnr, M.options.root_markers)
end

local group = vim.api.nvim_create_augroup("infiagent", { clear = true })

--- Before 0.11: starts (or reuses) the client for each file buffer under a root.
local function attach_with_lsp_start(bufnr)
  local options = M.options
  if options.filetypes and not vim.tbl_contains(options.filetypes, vim.bo[bufnr].filetype) then
    return
  end
  local root = M.root(bufnr)
  if not root then
    return
  end
  local config = client_config()
  config.root_dir = root
  config.root_markers = nil
  config.filetypes = nil
  vim.lsp.start(config, { bufnr = bufnr })
end

--- Sets the plugin up: the client, its root detection, the commands.
---@param opts? { cmd?: string[], settings?: table, root_markers?: string[], filetypes?: string[] }
function M.setup(opts)
  M.options = vim.deepcopy(defaults)
  for key, value in pairs(opts or {}) do
    M.options[key] = value
  end
  create_commands()
  vim.api.nvim_clear_autocmds({ group = group })
  if vim.lsp.config and vim.lsp.enable then
    local config = client_config()
    config.root_dir = function(bufnr, on_dir)
      local root = M.root(bufnr)
      if root then
        on_dir(root)
      end
    end
    config.root_markers = nil
    vim.lsp.config(M.name, config)
    vim.lsp.enable(M.name)
  else
    vim.api.nvim_create_autocmd("FileType", {
      group = group,
      pattern = M.options.filetypes or "*",
      callback = function(event)
        attach_with_lsp_start(event.buf)
      end,
    })
    for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
      if vim.api.nvim_buf_is_loaded(bufnr) and vim.bo[bufnr].filetype ~= "" then
        attach_with_lsp_start(bufnr)
      end
    end
  end
  M.did_setup = true
end

return M
