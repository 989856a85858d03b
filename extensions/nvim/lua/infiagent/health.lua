--- `:checkhealth infiagent`: the binary and its version, the model configuration,
--- the key variable, the running clients.
local M = {}

local health = vim.health

--- `[model]` keys of a workspace's `.infiagent/config.toml` (a light reading: the
--- server reports any error in the file itself).
local function model_from_config_file(root)
  local file = vim.fs.joinpath(root, ".infiagent", "config.toml")
  if not vim.uv.fs_stat(file) then
    return nil, file
  end
  local model = {}
  local in_model = false
  for line in io.lines(file) do
    local table_name = line:match("^%s*%[([^%]]+)%]")
    if table_name then
      in_model = vim.trim(table_name) == "model"
    elseif in_model then
      local key, value = line:match('^%s*([%w_]+)%s*=%s*"([^"]*)"')
      if key then
        model[key] = value
      end
    end
  end
  return model, file
end

local function workspace_root(plugin)
  local bufnr = vim.api.nvim_get_current_buf()
  local root = plugin.root(bufnr)
  if root then
    return root
  end
  for _, client in ipairs(vim.lsp.get_clients({ name = plugin.name })) do
    if client.root_dir then
      return client.root_dir
    end
  end
  return vim.uv.cwd()
end

function M.check()
  local plugin = require("infiagent")

  health.start("infiagent: setup")
  if vim.fn.has("nvim-0.10") == 1 then
    health.ok("Neovim " .. tostring(vim.version()))
  else
    health.error("Neovim 0.10 or newer is needed")
  end
  if plugin.did_setup then
    health.ok('require("infiagent").setup() was called')
  else
    health.warn('require("infiagent").setup() was not called: the server does not start', {
      'Add require("infiagent").setup({ settings = { model = { ... } } }) to your configuration.',
    })
  end

  health.start("infiagent: binary")
  local command = plugin.options.cmd[1]
  local binary = vim.fn.exepath(command)
  if binary == "" then
    health.error(command .. " not found (cmd = " .. vim.inspect(plugin.options.cmd) .. ")", {
      "Install it: cargo install --path server/infiagent-cli (from the InfiAgent repository)",
      'Or give its path: require("infiagent").setup({ cmd = { "/path/to/infiagent", "lsp" } })',
    })
  else
    local result = vim.system({ binary, "--version" }, { text = true }):wait(5000)
    if result.code == 0 then
      health.ok(string.format("%s: %s", binary, vim.trim(result.stdout or "")))
    else
      health.error(string.format("%s --version failed (exit %s): %s", binary, tostring(result.code), result.stderr or ""))
    end
  end

  health.start("infiagent: model")
  local root = workspace_root(plugin)
  local settings_model = (plugin.options.settings or {}).model or {}
  local file_model, file = model_from_config_file(root)
  local env_model = { name = vim.env.INFIAGENT_MODEL, base_url = vim.env.INFIAGENT_BASE_URL, api_key_env = vim.env.INFIAGENT_API_KEY_ENV }
  -- Later sources win, as in the server: the file, the variables, the editor settings.
  local model = vim.tbl_extend("force", file_model or {}, env_model, settings_model)
  local sources = {}
  if file_model then
    table.insert(sources, file)
  end
  if env_model.name or env_model.base_url then
    table.insert(sources, "INFIAGENT_* variables")
  end
  if next(settings_model) then
    table.insert(sources, "setup settings")
  end
  if model.name or model.base_url then
    health.ok(
      string.format(
        "model %s at %s (from %s)",
        model.name or "(default)",
        model.base_url or "the provider's endpoint",
        table.concat(sources, ", ")
      )
    )
  else
    health.warn("no model configured for " .. root, {
      'setup({ settings = { model = { base_url = "http://127.0.0.1:11434/v1", name = "qwen2.5-coder:7b" } } })',
      "or [model] in " .. vim.fs.joinpath(root, ".infiagent", "config.toml"),
      "offline trial: infiagent demo --serve-model 127.0.0.1:8765, then base_url = http://127.0.0.1:8765/v1, name = scripted",
    })
  end
  if model.api_key_env and model.api_key_env ~= "" then
    if vim.env[model.api_key_env] and vim.env[model.api_key_env] ~= "" then
      health.ok("the key variable " .. model.api_key_env .. " is set")
    else
      health.error("the key variable " .. model.api_key_env .. " is not set", {
        "Export it in the shell that starts Neovim.",
      })
    end
  else
    health.info("no key variable named (api_key_env): none is sent to a custom base_url")
  end

  health.start("infiagent: clients")
  local clients = vim.lsp.get_clients({ name = plugin.name })
  if #clients == 0 then
    health.info("no infiagent client running (open a file under one of: " .. table.concat(plugin.options.root_markers, ", ") .. ")")
  end
  for _, client in ipairs(clients) do
    health.ok(string.format("client %d for %s", client.id, client.root_dir or "(no root)"))
  end
end

return M
