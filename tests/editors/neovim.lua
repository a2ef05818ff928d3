-- Drives a headless Neovim as a user would, after one of docs/editors.md's set-ups: open an
-- nginx site of the project, wait for conflint's diagnostics, take the quick fix from the
-- code action menu, watch the diagnostics clear, then open the PHP-FPM pool. Each step's
-- outcome goes, one line each, to $RESULT for tests/editor_neovim.rs to check; every wait
-- is bounded, and Neovim quits whatever happens.
local out = {}
local function say(line) table.insert(out, line) end
local function wait(what, ms, cond)
  if not vim.wait(ms, cond, 50) then error('timed out waiting for ' .. what, 0) end
end
local function codes(buf)
  local list = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do table.insert(list, tostring(d.code)) end
  table.sort(list)
  return table.concat(list, ' ')
end

local function drive()
  vim.o.hidden = true -- 0.7–0.9: leave the edited site for the pool without saving it
  vim.cmd('edit ' .. vim.fn.fnameescape(vim.env.SITE))
  local site = vim.api.nvim_get_current_buf()
  say('site filetype ' .. vim.bo[site].filetype)
  wait('the site diagnostics', 20000, function() return #vim.diagnostic.get(site) > 0 end)
  say('site diagnostics ' .. codes(site))

  -- The cursor on NGX101; the menu of code actions picks its quick fix.
  local target
  for _, d in ipairs(vim.diagnostic.get(site)) do
    if d.code == 'NGX101' then target = d end
  end
  if not target then error('no NGX101 diagnostic', 0) end
  vim.api.nvim_win_set_cursor(0, { target.lnum + 1, target.col })
  local offered, chosen = {}, nil
  vim.ui.select = function(items, opts, on_choice)
    for i, item in ipairs(items) do
      local title = opts.format_item(item)
      table.insert(offered, title)
      if not chosen and title:find('^NGX101') then chosen = i end
    end
    on_choice(chosen and items[chosen], chosen)
  end
  vim.lsp.buf.code_action()
  wait('the code action menu', 10000, function() return #offered > 0 end)
  say('offered ' .. table.concat(offered, ' | '))
  wait('the fix in the buffer', 10000, function() return vim.bo[site].modified end)
  say('fixed line ' .. vim.api.nvim_buf_get_lines(site, target.lnum, target.lnum + 1, false)[1])
  -- The unsaved buffer is linted again, and the fix also settles XFP002.
  wait('the diagnostics to clear', 10000, function() return #vim.diagnostic.get(site) == 0 end)
  say('site diagnostics after the fix: ' .. codes(site))

  -- Completion: half a directive name typed in the PHP location, the list asked for as
  -- the omnifunc asks; then hover on the directive the fix changed.
  local client
  for _, c in pairs(vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = site }) or vim.lsp.buf_get_clients(site)) do client = c end
  -- 0.8 and later keep the server's capabilities as sent; 0.7 a digest of them.
  local advertised = (client.server_capabilities or {}).completionProvider ~= nil or (client.resolved_capabilities or {}).completion == true
  local row = target.lnum + 1
  vim.api.nvim_buf_set_lines(site, row, row, false, { '        proxy_pa' })
  local uri = vim.uri_from_bufnr(site)
  local answers = vim.lsp.buf_request_sync(site, 'textDocument/completion', { textDocument = { uri = uri }, position = { line = row, character = 16 } }, 10000)
  local labels = {}
  for _, answer in pairs(answers or {}) do
    local result = answer.result or {}
    for _, item in ipairs(result.items or result) do labels[item.label] = true end
  end
  say('completion advertised ' .. tostring(advertised) .. ', proxy_pass ' .. tostring(labels.proxy_pass == true) .. ', worker_connections ' .. tostring(labels.worker_connections == true))
  answers = vim.lsp.buf_request_sync(site, 'textDocument/hover', { textDocument = { uri = uri }, position = { line = target.lnum, character = 10 } }, 10000)
  local shown = ''
  for _, answer in pairs(answers or {}) do
    if answer.result then shown = answer.result.contents.value end
  end
  say('hover ' .. (shown:match('Default: [^\n]*') or shown))

  vim.cmd('edit ' .. vim.fn.fnameescape(vim.env.POOL))
  local pool = vim.api.nvim_get_current_buf()
  say('pool filetype ' .. vim.bo[pool].filetype)
  wait('the pool diagnostics', 20000, function() return #vim.diagnostic.get(pool) > 0 end)
  say('pool diagnostics ' .. codes(pool))

  local clients = 0
  for _, c in ipairs((vim.lsp.get_clients or vim.lsp.get_active_clients)()) do
    if c.name == 'conflint' then clients = clients + 1 end
  end
  say('conflint clients ' .. clients)
end

local ok, err = pcall(drive)
say(ok and 'done' or ('FAILED: ' .. tostring(err)))
vim.fn.writefile(out, vim.env.RESULT)
vim.cmd('qall!')
