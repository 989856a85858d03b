-- A small test harness for specs run with `nvim --headless -l`: named checks that
-- report `ok`/`not ok`, time-boxed waits, and the counts for tests/nvim/run.sh.
local harness = { passed = 0, failed = 0 }

local function write(text)
  io.stdout:write(text .. "\n")
  io.stdout:flush()
end

--- Runs one check; a failure is reported with its traceback and the run goes on.
function harness.test(name, check)
  local ok, err = xpcall(check, debug.traceback)
  if ok then
    harness.passed = harness.passed + 1
    write("ok - " .. name)
  else
    harness.failed = harness.failed + 1
    write("not ok - " .. name)
    write("  " .. tostring(err):gsub("\n", "\n  "))
  end
end

--- Waits until `probe()` returns a value (not nil/false), at most `timeout_ms` (30 s).
function harness.wait_for(what, probe, timeout_ms)
  local value
  local ok = vim.wait(timeout_ms or 30000, function()
    value = probe()
    return value ~= nil and value ~= false
  end, 20)
  if not ok then
    error("timed out after " .. (timeout_ms or 30000) .. " ms waiting for " .. what, 2)
  end
  return value
end

--- The variables tests/nvim/run.sh sets: the workspace (its real path), the
--- scripted model's URL and the `infiagent` binary.
function harness.environment()
  local workspace = assert(vim.uv.fs_realpath(assert(os.getenv("INFIAGENT_TEST_WORKSPACE"))))
  return workspace, assert(os.getenv("INFIAGENT_TEST_MODEL_URL")), assert(os.getenv("INFIAGENT_BIN"))
end

--- Waits (10 s at most) for the buffer named `name` to hold more than `lines` lines.
function harness.wait_for_buffer(name, lines)
  return harness.wait_for("the buffer " .. name, function()
    local found = vim.fn.bufnr(name)
    return found ~= -1 and vim.api.nvim_buf_line_count(found) > lines and found
  end, 10000)
end

function harness.equal(actual, expected, what)
  if not vim.deep_equal(actual, expected) then
    error(string.format("%s: expected %s, got %s", what, vim.inspect(expected), vim.inspect(actual)), 2)
  end
end

function harness.contains(text, fragment, what)
  if type(text) ~= "string" or not text:find(fragment, 1, true) then
    error(string.format("%s: %s does not contain %s", what, vim.inspect(text), vim.inspect(fragment)), 2)
  end
end

function harness.truthy(value, what)
  if not value then
    error(what, 2)
  end
  return value
end

--- Stops every LSP client, appends the counts to $INFIAGENT_TEST_RESULTS, and exits
--- (1 when a check failed).
function harness.finish()
  for _, client in ipairs(vim.lsp.get_clients()) do
    client:stop()
  end
  vim.wait(5000, function()
    return #vim.lsp.get_clients() == 0
  end, 20)
  local results = os.getenv("INFIAGENT_TEST_RESULTS")
  if results then
    local file = assert(io.open(results, "a"))
    file:write(string.format("%d %d\n", harness.passed, harness.failed))
    file:close()
  end
  write(string.format("(%d ok, %d not ok)", harness.passed, harness.failed))
  os.exit(harness.failed == 0 and 0 or 1)
end

return harness
