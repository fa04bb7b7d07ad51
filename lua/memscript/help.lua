-- help.lua: help() of the interactive session: the sections of docs/*.md (compiled in), found by name or value.
--
--   help()                  the list of documented functions
--   help(proc.smaps)        the section whose heading is "### `proc.smaps(pid)`" in docs/api.md
--   help("mappings:sort")   the same by name; help("where.md") a whole page
--
-- A section runs from its heading to the next heading. A name matches a backticked heading that
-- starts with it, followed by anything but a name character: "proc.smaps" matches `proc.smaps(pid)`,
-- not `proc.smaps_rollup(pid)`. A value is named by searching proc, where and the memscript modules.

local type, pairs, ipairs, require, pcall, tostring, select, rawget, getmetatable =
      type, pairs, ipairs, require, pcall, tostring, select, rawget, getmetatable
local format, concat, sort, max, floor = string.format, table.concat, table.sort, math.max, math.floor
local write = io.write
local preload, loaded = package.preload, package.loaded
local getinfo = debug.getinfo

local M = {}

local function trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- The sections of a markdown text: { level, title, code (first backticked text), body }.
local function parse(text)
  local list, current, fenced = {}, nil, false
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    local hashes, title
    if line:match("^```") then
      fenced = not fenced
    elseif not fenced then
      hashes, title = line:match("^(#+)%s+(.-)%s*$")
    end
    if hashes then
      current = { level = #hashes, title = title, code = title:match("`([^`]+)`"), body = {} }
      list[#list + 1] = current
    elseif current then
      current.body[#current.body + 1] = line
    end
  end
  for _, s in ipairs(list) do s.body = trim(concat(s.body, "\n")) end
  return list
end

local cache

-- The docs pages compiled in, api first: { name = "api", text = ..., sections = ... }.
local function pages()
  if cache then return cache end
  local names = {}
  for key in pairs(preload) do
    local name = type(key) == "string" and key:match("^memscript%.doc%.(.+)$")
    if name then names[#names + 1] = name end
  end
  sort(names, function(a, b)
    if (a == "api") ~= (b == "api") then return a == "api" end
    return a < b
  end)
  cache = {}
  for _, name in ipairs(names) do
    local ok, text = pcall(require, "memscript.doc." .. name)
    if ok and type(text) == "string" then
      cache[#cache + 1] = { name = name, text = text, sections = parse(text) }
    end
  end
  return cache
end

local function plain(title)
  return (title:gsub("`", ""))
end

-- code starts with name, and what follows is not part of a longer name.
local function names_entry(code, name)
  if code:sub(1, #name) ~= name then return false end
  local after = code:sub(#name + 1, #name + 1)
  return after == "" or not after:match("[%w_%.:]")
end

local function find_section(name)
  for _, page in ipairs(pages()) do
    for i, s in ipairs(page.sections) do
      if s.code and (names_entry(s.code, name) or names_entry(s.code, "memscript." .. name)) then
        return page, i
      end
    end
  end
  return nil
end

-- The section's title and text, then the titles of the sections under it.
local function section_text(page, i)
  local s = page.sections[i]
  local out = { plain(s.title) }
  if s.body ~= "" then out[#out + 1] = "\n" .. s.body end
  local under = {}
  for j = i + 1, #page.sections do
    local sub = page.sections[j]
    if sub.level <= s.level then break end
    under[#under + 1] = "  " .. plain(sub.title)
  end
  if #under > 0 then out[#out + 1] = "\n" .. concat(under, "\n") end
  return concat(out, "\n")
end

-- The entries whose names continue name with "." or ":" (help("proc") when no heading is "proc").
local function entries_under(name)
  local found = {}
  for _, page in ipairs(pages()) do
    for _, s in ipairs(page.sections) do
      local code = s.code
      if code and (code:sub(1, #name + 1) == name .. "." or code:sub(1, #name + 1) == name .. ":") then
        found[#found + 1] = "  " .. code
      end
    end
  end
  return found
end

local function memscript_modules()
  local names = {}
  for key in pairs(preload) do
    if type(key) == "string" and key:match("^memscript%.[%w_]+$") then names[#names + 1] = key end
  end
  sort(names)
  return names
end

local function key_of(t, value)
  for k, v in pairs(t) do
    if v == value and type(k) == "string" then return k end
  end
  return nil
end

local lua_libraries = { "coroutine", "debug", "io", "math", "os", "package", "string", "table", "utf8" }

-- The documented name of a value: searched in proc, proc.cgroup, where and the memscript modules.
-- Second result: the name of a function of Lua's standard library, when it is one.
function M.name_of(value)
  local proc = rawget(_G, "proc") or loaded.memscript
  if type(proc) == "table" then
    if value == proc then return "proc" end
    local k = key_of(proc, value)
    if k then return "proc." .. k end
    -- proc.cgroup's functions are documented as the global cgroup's: cgroup.memory(path)
    if type(proc.cgroup) == "table" then
      if value == proc.cgroup then return "cgroup" end
      k = key_of(proc.cgroup, value)
      if k then return "cgroup." .. k end
    end
  end
  if value == rawget(_G, "where") then return "where" end
  if value == M.help then return "help" end
  local ok, collection = pcall(require, "memscript.collection")
  if ok and type(value) == "table" and getmetatable(value) == collection.meta then return "mappings" end
  for _, modname in ipairs(memscript_modules()) do
    local ok, mod = pcall(require, modname)
    local short = modname:sub(#"memscript." + 1)
    if ok then
      if mod == value then return short end
      if type(mod) == "table" then
        local k = key_of(mod, value)
        if k then return short .. "." .. k end
        -- the collection methods are documented on their receiver: mappings:filter(test)
        if type(mod.methods) == "table" then
          k = key_of(mod.methods, value)
          if k then return "mappings:" .. k end
        end
      end
    end
  end
  if type(value) == "function" and getinfo(value, "S").what == "C" then
    local k = key_of(loaded._G, value)
    if k then return nil, k end
    for _, lib in ipairs(lua_libraries) do
      if type(loaded[lib]) == "table" then
        k = key_of(loaded[lib], value)
        if k then return nil, lib .. "." .. k end
      end
    end
  end
  return nil
end

-- The help text for a name or a value; second result false when there is no documentation.
function M.text(subject)
  local name, lua_name
  if type(subject) == "string" then
    name = subject:gsub("^memscript%.(.)", "%1")
  else
    name, lua_name = M.name_of(subject)
  end
  if name then
    local page_name = name:match("^docs/(.+)%.md$") or name:match("^(.+)%.md$")
    for _, page in ipairs(pages()) do
      if page.name == page_name then return trim(page.text), true end
    end
    local page, i = find_section(name)
    if page then return section_text(page, i), true end
    local under = entries_under(name)
    if #under > 0 then
      return format("Documented under %s:\n%s\nhelp(\"NAME\") shows one of them.", name, concat(under, "\n")), true
    end
    return format("no documentation for %s", name), false
  end
  if lua_name then
    return format("no documentation for %s here: it is part of Lua 5.4 "
      .. "(https://www.lua.org/manual/5.4/manual.html#pdf-%s)", lua_name, lua_name), false
  end
  return format("no documentation for %s (not found in proc, where or the memscript modules)",
    tostring(subject)), false
end

-- Names in columns that fit in width.
local function columns(names, width)
  local widest = 0
  for _, n in ipairs(names) do widest = max(widest, #n) end
  local per_row = max(1, floor((width - 2) / (widest + 2)))
  local rows = (#names + per_row - 1) // per_row
  local out = {}
  for r = 1, rows do
    local line = {}
    for c = 0, per_row - 1 do
      local n = names[r + c * rows]
      if n then line[#line + 1] = n .. (" "):rep(widest + 2 - #n) end
    end
    out[#out + 1] = "  " .. trim(concat(line))
  end
  return concat(out, "\n")
end

-- The list of documented functions, grouped by the sections of the pages, and how to get more.
function M.overview(width)
  width = width or 80
  local out = {
    "help(x) shows the documentation of x: help(proc.smaps), help(\"mappings:filter\"),",
    "help(\"where\"). pp(value) prints a value in full, without the one-screen limit.",
    "Tab completes names, Ctrl-C interrupts the running line, Ctrl-D leaves.",
  }
  local other_pages = {}
  for _, page in ipairs(pages()) do
    local group, entries
    local function flush()
      if group and #entries > 0 then
        out[#out + 1] = ""
        out[#out + 1] = group
        out[#out + 1] = columns(entries, width)
      end
    end
    local any = false
    for _, s in ipairs(page.sections) do
      if s.level <= 2 then
        flush()
        group, entries = plain(s.title), {}
      elseif s.code and entries then
        entries[#entries + 1] = s.code
        any = true
      end
    end
    flush()
    if not any then other_pages[#other_pages + 1] = format("help(%q)", page.name .. ".md") end
  end
  if #other_pages > 0 then
    out[#out + 1] = ""
    out[#out + 1] = "More pages: " .. concat(other_pages, ", ")
  end
  return concat(out, "\n") .. "\n"
end

-- help() lists the documented functions; help(x) shows the documentation of x (a value or a name).
function M.help(...)
  if select("#", ...) == 0 then
    write(M.overview())
    return
  end
  write((M.text((...))), "\n")
end

return M
