-- rules.lua: alert rules as data: a rules file (Lua returning an array of rules) is loaded as text in
-- an environment of its own, checked, its `when` expressions compiled once, and evaluated over pids.
--
--   local rules = require "memscript.rules"
--   local set = assert(rules.load("my-rules.lua"))
--   local matches = set:evaluate(1234)   -- {rule, pid, comm, mapping | process} for each match
--
-- A rule: { when = "where-expression", severity = "warning" | "critical", message = "...",
--           scope = "mapping" (default) | "process" | "cgroup", name = "label" (optional) }
-- Mapping scope: `when` is tested on each mapping of /proc/PID/smaps (docs/where.md).
-- Process scope: `when` is tested once on the process's fields: pid, comm, the /proc/PID/status keys
-- (VmRSS, VmSwap, Threads...) and the /proc/PID/smaps_rollup keys (Rss, Pss, Swap, Anonymous...).
-- Cgroup scope: `when` is tested on a memory cgroup's figures (M.cgroup_fields): current, limit,
-- usage (percent of the limit), pressure_some, oom_kill, oom_kill_new, ...; set:evaluate_cgroup(path).

local proc = require "memscript"
local where = require "memscript.where"
local read_file = require("memscript.sys").read_file

local type, pairs, ipairs, pcall, load, tostring, tonumber, setmetatable, math_type =
  type, pairs, ipairs, pcall, load, tostring, tonumber, setmetatable, math.type
local format, find, sort = string.format, string.find, table.sort
local math, string, table, utf8 = math, string, table, utf8

local M = {}

local FIELDS = { when = true, severity = true, message = true, scope = true, name = true }
local SEVERITIES = { warning = true, critical = true }
local SCOPES = { mapping = true, process = true, cgroup = true }

-- smaps_rollup of a process without memory (a kernel thread, a zombie) fails with ESRCH, and a capture
-- holds none for it: memscript.unreadable.reason_for tells that ("none") from a process gone or damaged.
local reason_for = require("memscript.unreadable").reason_for

---------------------------------------------------------------------------------------------------
-- Loading.

-- Copies of the standard tables, so a rules file cannot change the ones the rest of memscript uses.
local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- The functions a rules file may call: pure ones only; no io, os, require, load or print.
local SAFE = { "assert", "error", "ipairs", "next", "pairs", "pcall", "select", "tonumber", "tostring",
  "type" }
local G = _G

local function environment()
  local env = { math = copy(math), string = copy(string), table = copy(table), utf8 = copy(utf8) }
  for _, name in ipairs(SAFE) do env[name] = G[name] end
  return env
end

local function quoted(v)
  if type(v) == "string" then return format("%q", v) end
  return tostring(v)
end

-- One rule checked and compiled; nil, message when it is not valid.
local function compile_rule(rule, index, source)
  local function bad(fmt, ...)
    return nil, format("%s: rule %d: ", source, index) .. format(fmt, ...)
  end
  if type(rule) ~= "table" then return bad("a rule must be a table, got %s", type(rule)) end
  local unknown = {}
  for key in pairs(rule) do
    if not FIELDS[key] then unknown[#unknown + 1] = tostring(key) end
  end
  if #unknown > 0 then
    sort(unknown)
    return bad("unknown field '%s' (fields: when, severity, message, scope, name)", unknown[1])
  end
  if type(rule.when) ~= "string" then
    return bad("field 'when' must be a where-expression string, got %s", quoted(rule.when))
  end
  if not SEVERITIES[rule.severity] then
    return bad("field 'severity' must be \"warning\" or \"critical\", got %s", quoted(rule.severity))
  end
  if type(rule.message) ~= "string" or rule.message == "" then
    return bad("field 'message' must be a non-empty string, got %s", quoted(rule.message))
  end
  local scope = rule.scope or "mapping"
  if not SCOPES[scope] then
    return bad("field 'scope' must be \"mapping\", \"process\" or \"cgroup\", got %s", quoted(rule.scope))
  end
  local name = rule.name or format("rule_%d", index)
  if type(name) ~= "string" or not find(name, "^[%w_.:-]+$") then
    return bad("field 'name' must be letters, digits and _ . : - only, got %s", quoted(rule.name))
  end
  -- A process (or a cgroup) is not a mapping: the names where derives from perms and path (kind,
  -- anon, executable...) are plain keys of the table in process and cgroup scope.
  local saved = where.derived
  if scope ~= "mapping" then where.derived = {} end
  local ok, test = pcall(where.compile, rule.when)
  where.derived = saved
  if not ok then return bad("field 'when': %s", tostring(test)) end
  return { index = index, name = name, when = rule.when, severity = rule.severity,
           message = rule.message, scope = scope, test = test }
end

local Set = {}
Set.__index = Set

-- A rule set from an array of rules; nil, message naming the rule and field when one is not valid.
-- source names the rules in messages (default "rules").
function M.compile(list, source)
  source = source or "rules"
  if type(list) ~= "table" then
    return nil, format("%s: expected an array of rules, got %s", source, type(list))
  end
  for key in pairs(list) do
    if math_type(key) ~= "integer" or key < 1 or key > #list then
      return nil, format("%s: expected an array of rules, found the key %s", source, quoted(key))
    end
  end
  local set = setmetatable({ rules = {}, mapping_rules = {}, process_rules = {}, cgroup_rules = {}, source = source },
    Set)
  local names = {}
  for index, rule in ipairs(list) do
    local compiled, msg = compile_rule(rule, index, source)
    if not compiled then return nil, msg end
    if names[compiled.name] then
      return nil, format("%s: rule %d: field 'name': %s is also the name of rule %d", source, index,
        quoted(compiled.name), names[compiled.name])
    end
    names[compiled.name] = index
    set.rules[index] = compiled
    local group = set[compiled.scope .. "_rules"]
    group[#group + 1] = compiled
  end
  return set
end

-- Runs a rules file: read as text, run in its own environment (no io, os, require, load, print).
-- Returns what it returned, unchecked; nil, message when it cannot be read or does not run. Only a
-- regular file is read: a device (/dev/zero) or a pipe named by mistake would never end.
function M.read(path)
  local text, msg = read_file(path)
  if not text then return nil, msg end
  local chunk, err = load(text, "@" .. path, "t", environment())
  if not chunk then return nil, err end
  local ok, list = pcall(chunk)
  if not ok then return nil, tostring(list) end
  return list
end

-- A rules file read and compiled: a rule set, or nil, message.
function M.load(path)
  local list, msg = M.read(path)
  if list == nil then return nil, msg or (path .. ": returned nothing (expected an array of rules)") end
  return M.compile(list, path)
end

---------------------------------------------------------------------------------------------------
-- Evaluating.

-- The fields of a process for process-scope rules: status keys, smaps_rollup keys, pid and comm.
-- A process without memory (a kernel thread, a zombie) has no smaps_rollup keys.
-- nil, message, errno when it cannot be read.
function M.process_fields(pid, comm)
  local status, msg, errno = proc.status(pid)
  if not status then return nil, msg, errno end
  if comm == nil then
    comm, msg, errno = proc.comm(pid)
    if not comm then return nil, msg, errno end
  end
  local fields = {}
  for k, v in pairs(status) do fields[k] = v end
  local rollup
  rollup, msg, errno = proc.smaps_rollup(pid)
  if rollup then
    for k, v in pairs(rollup) do fields[k] = v end
  elseif reason_for(pid, errno, proc) ~= "none" then
    return nil, msg, errno
  end
  fields.pid = status.Pid
  fields.comm = comm
  return fields
end

-- The pid as a number ("self" and numeric strings resolved).
local function pid_number(pid)
  local n = math_type(pid) == "integer" and pid or tonumber(pid)
  if n then return n end
  local stat = proc.stat(pid)
  return stat and stat.pid or pid
end

-- The matches of every rule on process pid, in rule order, mappings in address order:
-- {rule, pid, comm, mapping = m} for mapping scope, {rule, pid, comm, process = fields} for process
-- scope. nil, message, errno when the process cannot be read.
function Set:evaluate(pid)
  local matches = {}
  local comm, msg, errno = proc.comm(pid)
  if not comm then return nil, msg, errno end
  local fields
  if #self.process_rules > 0 then
    fields, msg, errno = M.process_fields(pid, comm)
    if not fields then return nil, msg, errno end
  end
  local smaps
  if #self.mapping_rules > 0 then
    smaps, msg, errno = proc.smaps(pid)
    if not smaps then return nil, msg, errno end
  end
  local number = fields and fields.pid or pid_number(pid)
  for _, rule in ipairs(self.rules) do
    local test = rule.test
    if rule.scope == "process" then
      if test(fields) then
        matches[#matches + 1] = { rule = rule, pid = number, comm = comm, process = fields }
      end
    elseif rule.scope == "mapping" then
      for _, m in ipairs(smaps) do
        if test(m) then
          matches[#matches + 1] = { rule = rule, pid = number, comm = comm, mapping = m }
        end
      end
    end
  end
  return matches
end

-- The fields of a memory cgroup for cgroup-scope rules: memscript.cgroupview's fields of the cgroup at
-- path (current, max, high, limit, usage, headroom, working_set, anon, file, kernel, shmem, sock,
-- swap, oom_kill, pressure_some, pressure_full, procs, path, depth), and oom_kill_new: the OOM kills
-- since the previous call for that path in an earlier run of a watch (--interval), nil the first
-- time. p: the proc table (default: memscript's). nil, message, errno when it cannot be read.
function M.cgroup_fields(path, p)
  p = p or proc
  local m, msg, errno = p.cgroup.memory(path)
  if not m then return nil, msg, errno end
  local fields = require("memscript.cgroupview").fields(path, m)
  fields.oom_kill_new = require("memscript.watch").delta("memscript.rules cgroup oom_kill " .. path, fields.oom_kill)
  return fields
end

-- The matches of the cgroup-scope rules on the cgroup at path, in rule order: {rule, cgroup = path,
-- fields}; nil, message, errno when it cannot be read.
function Set:evaluate_cgroup(path, p)
  local matches = {}
  if #self.cgroup_rules == 0 then return matches end
  local fields, msg, errno = M.cgroup_fields(path, p)
  if not fields then return nil, msg, errno end
  for _, rule in ipairs(self.cgroup_rules) do
    if rule.test(fields) then matches[#matches + 1] = { rule = rule, cgroup = path, fields = fields } end
  end
  return matches
end

return M
