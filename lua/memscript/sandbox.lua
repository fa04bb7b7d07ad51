-- sandbox.lua: what --sandbox takes away, so a shared rules file can be run as root: commands,
-- file writes, changes to processes' page state, binary chunks, C modules and the debug library
-- (all but tracebacks).
-- Reading stays allowed: a rules file reads /proc and its own inputs like any script.

local error, type, select = error, type, select
local find = string.find

local M = {}

local function refused(name)
  return function()
    error(name .. " is not available in --sandbox", 2)
  end
end

-- A file mode that only reads: "r" or "rb".
local function read_only(mode)
  return mode == nil or mode == "r" or mode == "rb"
end

-- Applies the restrictions to the global table G (the host passes _G before any user code runs).
function M.apply(G)
  local io, os, package, debug, string = G.io, G.os, G.package, G.debug, G.string
  local open, output, load, loadfile, dofile = io.open, io.output, G.load, G.loadfile, G.dofile

  os.execute = refused("os.execute")
  os.remove = refused("os.remove")
  os.rename = refused("os.rename")
  os.tmpname = refused("os.tmpname")
  io.popen = refused("io.popen")
  io.tmpfile = refused("io.tmpfile")
  io.open = function(path, mode)
    if not read_only(mode) then
      error("io.open: only reading (mode \"r\") is available in --sandbox", 2)
    end
    return open(path, mode)
  end
  io.output = function(file)
    if file ~= nil and file ~= io.stdout and file ~= io.stderr then
      error("io.output: changing the output file is not available in --sandbox", 2)
    end
    return output(file)
  end

  -- proc.clear_refs and proc.mark_idle change what the kernel knows of a process's pages (its
  -- referenced, soft-dirty and idle bits): no rules file needs that. Tables proc.at returns too.
  local function without_writers(p)
    if type(p) ~= "table" then return p end
    p.clear_refs = refused("proc.clear_refs")
    p.mark_idle = refused("proc.mark_idle")
    local at = p.at
    if at then
      p.at = function(...)
        local other, msg, errno = at(...)
        return without_writers(other), msg, errno
      end
    end
    return p
  end
  without_writers(G.proc)

  -- Text chunks only: a binary chunk can break the interpreter's guarantees.
  string.dump = refused("string.dump")
  G.load = function(chunk, name, mode, ...)
    if mode ~= nil and find(mode, "b", 1, true) then
      error("load: binary chunks are not available in --sandbox", 2)
    end
    if select("#", ...) > 0 then return load(chunk, name, "t", ...) end
    return load(chunk, name, "t")
  end
  G.loadfile = function(path, mode, ...)
    if mode ~= nil and find(mode, "b", 1, true) then
      error("loadfile: binary chunks are not available in --sandbox", 2)
    end
    if select("#", ...) > 0 then return loadfile(path, "t", ...) end
    return loadfile(path, "t")
  end
  G.dofile = function(path)
    local chunk, err = loadfile(path, "t")
    if not chunk then error(err, 2) end
    return chunk()
  end

  -- Modules: memscript's own (preloaded) only, but for the capture writer (it writes files); no
  -- search path, no C loader.
  package.path = ""
  package.cpath = ""
  package.loadlib = refused("package.loadlib")
  package.preload["memscript.capture"] = refused("require \"memscript.capture\"")
  local sys = package.loaded["memscript.sys"]
  if type(sys) == "table" then sys.replace_file = refused("sys.replace_file") end
  package.loaded["memscript.capture"] = nil
  local searchers = package.searchers
  for i = #searchers, 2, -1 do searchers[i] = nil end

  G.debug = { traceback = debug.traceback }
  if type(package.loaded) == "table" then package.loaded.debug = G.debug end
end

return M
