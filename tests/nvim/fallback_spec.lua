-- The plugin's path for Neovim 0.10 (an autocmd with vim.lsp.start instead of
-- vim.lsp.config/vim.lsp.enable), taken here by hiding those two, against the real
-- server: attach under the root, none elsewhere, a judge run with its diagnostic.
local here = vim.fs.dirname(debug.getinfo(1, "S").source:sub(2))
local t = dofile(vim.fs.joinpath(here, "harness.lua"))

local workspace, model_url, binary = t.environment()

vim.cmd("filetype on")
vim.notify = function() end
vim.lsp.config = nil
vim.lsp.enable = nil

local infiagent = require("infiagent")

t.test("an already open buffer gets the client when setup runs", function()
  vim.cmd.edit(vim.fs.joinpath(workspace, "requirement.md"))
  infiagent.setup({
    cmd = { binary, "lsp" },
    settings = { model = { base_url = model_url, name = "scripted" }, run = { autonomy = "auto" } },
  })
  local client = t.wait_for("the client", function()
    local found = vim.lsp.get_clients({ bufnr = 0, name = "infiagent" })[1]
    return found and found.initialized and found
  end)
  t.equal(client.root_dir, workspace, "root_dir")
  t.equal(client.settings.infiagent.model.name, "scripted", "settings")
end)

t.test("files opened later reuse the client; a file under no root gets none", function()
  local file = vim.fs.joinpath(workspace, "broken.py")
  vim.fn.writefile({ "def f():", "    return 1", "raise ValueError('boom')" }, file)
  vim.cmd.edit(file)
  t.wait_for("the client on broken.py", function()
    return vim.lsp.get_clients({ bufnr = 0, name = "infiagent" })[1]
  end)
  t.equal(#vim.lsp.get_clients({ name = "infiagent" }), 1, "clients")
  local elsewhere = vim.fn.tempname()
  vim.fn.mkdir(elsewhere, "p")
  vim.cmd.edit(vim.fs.joinpath(elsewhere, "lonely.py"))
  vim.wait(300)
  t.equal(#vim.lsp.get_clients({ bufnr = 0, name = "infiagent" }), 0, "clients on a file under no root")
end)

t.test(":InfiJudge gives the Error diagnostic at line 2", function()
  vim.cmd.edit(vim.fs.joinpath(workspace, "broken.py"))
  local bufnr = vim.api.nvim_get_current_buf()
  vim.cmd("InfiJudge")
  local diagnostics = t.wait_for("an error diagnostic", function()
    local found = vim.diagnostic.get(bufnr, { severity = vim.diagnostic.severity.ERROR })
    return #found > 0 and found
  end)
  t.equal(diagnostics[1].lnum, 2, "line (0-based)")
  t.equal(diagnostics[1].source, "infiagent", "source")
  local ended = t.wait_for("the run's end in infiagent/runStatus", function()
    local runs = infiagent.list_runs()
    local last = runs[#runs]
    return last and last.state ~= "running" and last
  end)
  t.equal(ended.state, "failed", "the run's state")
end)

t.finish()
