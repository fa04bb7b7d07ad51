-- runtime.lua: everything the C side asks of the Lua library, in one module: the only one C calls into.
--
-- The host and the binding reach Lua code through these names only (src/bind/runtime.c), so a
-- module's insides can change without the C side knowing. The host loads this module before any
-- user code runs: the `require` kept here is Lua's own, whatever a script later does to the global.

local require, type, error, format, tostring = require, type, error, string.format, tostring
local loaded = package.loaded

local M = {}

-- The metatable of the arrays proc.maps and proc.smaps return (their methods: filter, sort, ...).
function M.mapping_list_meta()
  return require("memscript.collection").meta
end

-- What the path of a table proc.cgroup.of returns names: sets its unit, slice, container and pod.
function M.cgroup_names(t)
  require("memscript.cgroupname").annotate(t)
end

-- After each run of the script (every watch iteration, or once): what modules asked for.
function M.iteration_end()
  local run = loaded["memscript.run"]
  if type(run) == "table" then run.iteration_end() end
end

-- At the end of the run; returns the exit status the library raised (alerts), or nil.
function M.finish()
  local run = loaded["memscript.run"]
  if type(run) == "table" then return run.finish() end
  return nil
end

-- watch mode's --svg: the chart of the processes this run sampled with memscript.watch's memory(pid),
-- or nil when it sampled none.
function M.growth_svg()
  local watch = loaded["memscript.watch"]
  if type(watch) == "table" then return watch.growth_svg() end
  return nil
end

-- --sandbox: takes away from the global table G what a shared rule file must not use.
function M.sandbox(G)
  require("memscript.sandbox").apply(G)
end

-- The global where(expr): the where-language compiler.
function M.where(expr)
  return require("memscript.where").compile(expr)
end

-- What the host prints for the script at path, from the command line the script declares through
-- memscript.cli: form "list", its lines in memscript --list; "complete", its shell-completion data
-- for memscript --complete.
function M.describe(form, path)
  local cli = require "memscript.cli"
  if form == "list" then return cli.list_entry(path) end
  if form == "complete" then return cli.completion_of(path) end
  error(format("describe: unknown form '%s' (list or complete)", tostring(form)), 2)
end

-- An error message made safe for the terminal: a message may quote a name a process chose (a key
-- of a captured file, a script's error(comm)); its layout (newlines and tabs of a traceback) stays.
function M.escape_message(msg)
  return require("memscript.text").escape(msg, "\t\n\\")
end

-- The interactive session: how results are shown.
function M.show(...)
  return require("memscript.pretty").show(...)
end

-- The interactive session's globals help and pp.
function M.session_globals()
  return require("memscript.help").help, require("memscript.pretty").print
end

return M
