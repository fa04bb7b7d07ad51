-- The bundled scripts' command lines (memscript.cli): --help, --list and --complete from each
-- script's spec, the usage errors of every script (data-driven, as jq's tests), and the one size
-- grammar shared by units.parse, the where language and --max-memory.

local T = require "testing"
local cli = require "memscript.cli"
local units = require "memscript.units"
local where = require "memscript.where"

local format = string.format

local tree = T.fixtures .. "/helper-capture/proc"
local scripts_dir = T.source .. "/scripts"

local tmp, tmp_cleanup <close> = T.tempdir()

-- The bundled scripts, by file name, in name order.
local SCRIPTS = {}
for name in T.sh("ls " .. T.q(scripts_dir)):gmatch("[^\n]+") do
  if name:match("%.lua$") then SCRIPTS[#SCRIPTS + 1] = name end
end

-- Every bundled script declares its command line (none is left without a spec).
local WITHOUT_SPEC = {}

-- Each script's spec, as memscript --list finds it.
local SPECS = {}
for _, name in ipairs(SCRIPTS) do
  if not WITHOUT_SPEC[name] then SPECS[name] = cli.describe(scripts_dir .. "/" .. name) end
end

local function memscript(args, root)
  return T.memscript(root, args)
end

---------------------------------------------------------------------------------------------------
-- Specs, --help, --list, --complete

T.test("every bundled script declares its command line before any work", function()
  T.ok(#SCRIPTS >= 12, "scripts found: " .. #SCRIPTS)
  for _, name in ipairs(SCRIPTS) do
    if not WITHOUT_SPEC[name] then
      local spec, err = cli.describe(scripts_dir .. "/" .. name)
      T.ok(spec ~= nil, name .. " describes itself: " .. tostring(err))
      T.eq(spec and spec.name, name, name .. ": the spec's name")
    end
  end
end)

T.test("a script's usage lives only in its spec; its first line says what the file is for", function()
  for _, name in ipairs(SCRIPTS) do
    if not WITHOUT_SPEC[name] then
      local text = T.read(scripts_dir .. "/" .. name)
      T.eq(text:match("^[^\n]*"), "-- " .. name .. ": " .. SPECS[name].summary, name .. ": first line")
      T.ok(not text:find("usage: memscript", 1, true), name .. " writes no usage line of its own")
      T.ok(not text:find("function usage_error", 1, true), name .. " defines no usage_error")
      T.ok(not text:find("function parse_arguments", 1, true), name .. " defines no parse_arguments")
      T.ok(not text:find("function read_process", 1, true), name .. " defines no read_process")
    end
  end
end)

T.test("--help prints the help its spec gives, with every option, and exits 0", function()
  for name, spec in pairs(SPECS) do
    local out, err, status = memscript(name .. " --help")
    T.eq({ err, status }, { "", 0 }, name .. " --help: stderr and status")
    T.eq(out, cli.help(spec), name .. " --help")
    for _, option in ipairs(spec.options or {}) do
      for _, word in ipairs(option) do
        T.ok(out:find("%f[%w-]" .. word:gsub("%p", "%%%0") .. "%f[^%w-]"), name .. " --help names " .. word)
      end
    end
    T.contains(out, "  -h, --help", name .. " --help names -h, --help")
    T.eq(out:match("^[^\n]*\n"), cli.usage(spec), name .. ": the first line is the usage line")
  end
end)

T.test("memscript --list lists every script in scripts/ with the summary and usage of its spec", function()
  local out, err, status = memscript("--list")
  T.eq({ err, status }, { "", 0 }, "stderr and status")
  local listed = {}
  for name in out:gmatch("%f[^\n%z](%S+%.lua) ") do listed[#listed + 1] = name end
  T.eq(listed, SCRIPTS, "the scripts listed, in name order")
  for name, spec in pairs(SPECS) do
    T.contains(out, format("%-14s %s\n%-14s %s", name, spec.summary, "", cli.usage(spec)), name)
  end
end)

T.test("memscript --complete prints each option and operand of the spec", function()
  for name, spec in pairs(SPECS) do
    local out, err, status = memscript("--complete " .. name)
    T.eq({ err, status }, { "", 0 }, name .. ": stderr and status")
    T.eq(out, cli.completion(spec), name)
    T.eq(out:match("^[^\n]*"), "script " .. name, name .. ": first line")
    for _, option in ipairs(spec.options or {}) do
      if not option.label then
        local short, long = "-", "-"
        for _, word in ipairs(option) do
          if word:sub(1, 2) == "--" then long = word else short = word end
        end
        local kind = option.value and "%S+" or "none"
        T.ok(out:find("\noption " .. short:gsub("%p", "%%%0") .. " " .. long:gsub("%p", "%%%0") .. " " .. kind),
          name .. ": a line for " .. short .. " " .. long)
      end
    end
    T.contains(out, "\noption -h --help none\n", name .. ": -h, --help")
    for _, operand in ipairs(spec.operands or {}) do
      T.contains(out, "\noperand " .. operand[1] .. " ", name .. ": a line for " .. operand[1])
    end
  end
end)

T.test("--complete: the kinds of values and operands, with the words they take", function()
  local out = memscript("--complete diff.lua")
  T.eq(out, table.concat({
    "script diff.lua",
    "option -m --mappings none",
    "option -c --cgroups none",
    "option -a --all none",
    "option -n --rows number",
    "option -s --sort choice rss pss anon swap current file kernel",
    "option -h --help none",
    "operand A file one live",
    "operand B file one live",
    "operand PID pid optional",
    "" }, "\n"), "diff.lua")
  out = memscript("--complete rules.lua")
  T.contains(out, "option -r --rules file\noption - --rss size\noption - --swap size\n", "rules.lua options")
  T.contains(out, "operand PID pid many self all\n", "rules.lua operand")
  T.contains(memscript("--complete top.lua"), "option -p --pid pids\n", "top.lua -p")
  T.contains(memscript("--complete leak.lua"), "option -t --threshold size\n", "leak.lua -t")
end)

T.test("--complete of a script without a spec, a user's script, and a missing one", function()
  local plain = tmp .. "/plain.lua"
  T.write(plain, "-- plain.lua: a script with no spec\nprint(1)\n")
  T.eq({ memscript("--complete " .. T.q(plain)) }, { "script plain.lua\n", "", 0 }, "a script without a spec")
  local marker = tmp .. "/ran"
  local path = tmp .. "/mine.lua"
  T.write(path, format([[
-- mine.lua: a user's script with a spec
local cli = require "memscript.cli"
local opts = cli.parse({ name = "mine.lua", summary = "mine", options = { { "--size", value = "SIZE",
  type = "size", help = "a size" } }, operands = { { "DIR", type = "directory" } } }, arg)
io.open(%q, "w"):close()
]], marker))
  T.eq({ memscript("--complete " .. T.q(path)) }, {
    "script mine.lua\noption - --size size\noption -h --help none\noperand DIR directory one\n", "", 0 }, "mine.lua")
  T.ok(not T.read_if(marker), "describing it did not run what follows cli.parse")
  local plain = tmp .. "/plain.lua"
  T.write(plain, format("-- plain.lua: no spec\nio.open(%q, 'w'):close()\nprint('ran')\n", marker))
  T.eq({ memscript("--complete " .. T.q(plain)) }, { "script plain.lua\n", "", 0 }, "plain.lua")
  T.ok(not T.read_if(marker), "describing a script without a spec did not run it")
  -- Before its command line a script described sees no io, os, load, debug, package or module but
  -- memscript.cli: each of these attempts ends the description without an effect.
  for i, attempt in ipairs({ 'require("os").execute("touch %s")', 'require("io").open("%s", "w")',
      'load("io.open(\'%s\', \'w\')")()', 'require("debug").getregistry()', 'package.loadlib("%s", "x")',
      'require("memscript.sys").read_file("%s")', 'dofile("%s")', 'collectgarbage("%s")' }) do
    local hostile = tmp .. "/hostile" .. i .. ".lua"
    T.write(hostile, format(attempt, marker) .. '\nrequire("memscript.cli").parse({ name = "h.lua", summary = "h" }, arg)\n')
    T.eq({ memscript("--complete " .. T.q(hostile)) }, { "script hostile" .. i .. ".lua\n", "", 0 }, attempt)
    T.ok(not T.read_if(marker), attempt .. ": ran nothing")
  end
  local out, err, status = memscript("--complete no_such_script.lua")
  T.eq({ out, status }, { "", 3 }, "a missing script: stdout and status")
  T.contains(err, "memscript: cannot find script 'no_such_script.lua'", "a missing script: stderr")
end)

---------------------------------------------------------------------------------------------------
-- Usage errors: script, arguments, message. Every one exits 3 with nothing on stdout and
-- "memscript: SCRIPT: MESSAGE" then the usage line of the script's spec on stderr.

local INVALID_LOTS = "invalid size 'lots' (expected a number with an optional unit: 4k, 10M, 1.5G, 512 kB)"

local USAGE_ERRORS = {
  { "diff.lua", "--bogus a b", "unknown option '--bogus'" },
  { "diff.lua", "a b -n", "option -n needs a value (N)" },
  { "diff.lua", "-n 0 a b", "-n needs a positive number of rows, got '0'" },
  { "diff.lua", "--rows=x a b", "--rows needs a positive number of rows, got 'x'" },
  { "diff.lua", "-s size a b", "-s needs one of rss, pss, anon, swap, current, file, kernel, got 'size'" },
  { "diff.lua", "-n 1 -n 2 a b", "option -n given twice" },
  { "diff.lua", "--all=yes a b", "option --all takes no value" },
  { "diff.lua", "a b x", "bad process id 'x'" },
  { "diff.lua", "a b self", "bad process id 'self'" },
  { "diff.lua", "", "A and B are needed" },
  { "diff.lua", "a", "B is needed" },
  { "diff.lua", "a b 1 2", "more than one process id given ('2')" },
  { "diff.lua", "--rows", "option --rows needs a value (N)" },
  { "diff.lua", "-m a b 1", "-m and a PID cannot be combined" },

  { "capture.lua", "--bogus d", "unknown option '--bogus'" },
  { "capture.lua", "d --tar", "option --tar needs a value (FILE)" },
  { "capture.lua", "", "DIR is needed" },
  { "capture.lua", "d 12x", "bad process id '12x'" },
  { "capture.lua", "d all", "bad process id 'all'" },

  { "exporter.lua", "--bogus all", "unknown option '--bogus'" },
  { "exporter.lua", "all --top", "option --top needs a value (N)" },
  { "exporter.lua", "--top 0 all", "--top needs a positive number of processes, got '0'" },
  { "exporter.lua", "12x", "bad process id '12x'" },
  { "exporter.lua", "0", "bad process id '0'" },
  { "exporter.lua", "2147483648", "bad process id '2147483648'" },
  { "exporter.lua", "1 all", 'give process ids or "all", not both' },
  { "exporter.lua", "", "no process id given" },

  { "flags.lua", "-x 12", "unknown option '-x'" },
  { "flags.lua", "-sx 12", "unknown option '-x' in '-sx'" },
  { "flags.lua", "-s -m 12", "options -s and -m exclude each other" },
  { "flags.lua", "twelve", "bad process id 'twelve'" },
  { "flags.lua", "all", "bad process id 'all'" },
  { "flags.lua", "12 13", "more than one process id given ('13')" },
  { "flags.lua", "", "no process id given" },

  { "leak.lua", "--bogus 1", "unknown option '--bogus'" },
  { "leak.lua", "1 --interval", "option --interval needs a value (SECONDS)" },
  { "leak.lua", "--interval 0 1", "--interval needs a number of seconds above 0, got '0'" },
  { "leak.lua", "-n x 1", "-n needs a positive number of samples, got 'x'" },
  { "leak.lua", "--top -1 1", "--top needs a number of mappings, got '-1'" },
  { "leak.lua", "-t lots 1", "-t: " .. INVALID_LOTS },
  { "leak.lua", "--threshold=8E 1", "--threshold: size '8E' is too large (2^63 bytes, 8E, or more)" },
  { "leak.lua", "--threshold 2M,1M 1", "--threshold: the critical size 1M is below the warning size 2M" },
  { "leak.lua", "x", "bad process id 'x'" },
  { "leak.lua", "1 2", "more than one process id given ('2')" },
  { "leak.lua", "", "no process id given" },

  { "meminfo.lua", "-v", "unknown option '-v'" },
  { "meminfo.lua", "1", "unknown argument '1'" },

  { "numa.lua", "-x 1", "unknown option '-x'" },
  { "numa.lua", "abc", "bad process id 'abc'" },
  { "numa.lua", "", "no process id given" },

  { "query.lua", "-z 26231 'Rss > 0'", "unknown option '-z'" },
  { "query.lua", "abc 'Rss > 0'", "bad process id 'abc'" },
  { "query.lua", "", "no process id given" },
  { "query.lua", "26231", "EXPR is needed" },
  { "query.lua", "26231 'Rss > 0' extra", "unknown argument 'extra'" },

  { "report.lua", "-z 1", "unknown option '-z'" },
  { "report.lua", "-pz 1", "unknown option '-z' in '-pz'" },
  { "report.lua", "-Xd 1", "options -x, -d and -X exclude each other" },
  { "report.lua", "abc", "bad process id 'abc'" },
  { "report.lua", "0", "bad process id '0'" },
  { "report.lua", "--extended", "no process id given" },

  { "rules.lua", "--bogus 1", "unknown option '--bogus'" },
  { "rules.lua", "--rss", "option --rss needs a value (WARN[,CRIT])" },
  { "rules.lua", "1 -r", "option -r needs a value (FILE)" },
  { "rules.lua", "--rss lots 1", "--rss: " .. INVALID_LOTS },
  { "rules.lua", "--swap 9E 1", "--swap: size '9E' is too large (2^63 bytes, 8E, or more)" },
  { "rules.lua", "--rss 2G,1G 1", "--rss: the critical size 1G is below the warning size 2G" },
  { "rules.lua", "x1", "bad process id 'x1'" },
  { "rules.lua", "1 all", 'give process ids or "all", not both' },
  { "rules.lua", "", "no process id given" },

  { "flame.lua", "-u -c", "options -u and -c exclude each other" },
  { "flame.lua", "--metric vsz", "--metric needs one of pss, rss, uss, swap, footprint, got 'vsz'" },
  { "flame.lua", "-p abc", "-p needs process ids separated by commas, got 'abc'" },
  { "flame.lua", "-o", "option -o needs a value (FILE.svg)" },
  { "flame.lua", "12", "unknown argument '12'" },

  { "map.lua", "", "no process id given" },
  { "map.lua", "x", "bad process id 'x'" },
  { "map.lua", "1 2", "more than one process id given ('2')" },
  { "map.lua", "-x 1", "unknown option '-x'" },

  { "status.lua", "-q 1", "unknown option '-q'" },
  { "status.lua", "pid", "bad process id 'pid'" },
  { "status.lua", "1 2", "more than one process id given ('2')" },
  { "status.lua", "", "no process id given" },

  { "system.lua", "-x", "unknown option '-x'" },
  { "system.lua", "12", "unknown argument '12'" },

  { "top.lua", "-x", "unknown option '-x'" },
  { "top.lua", "-n", "option -n needs a value (N)" },
  { "top.lua", "-n 0", "-n needs a positive number of rows, got '0'" },
  { "top.lua", "-p 12,abc", "-p needs process ids separated by commas, got '12,abc'" },
  { "top.lua", "-p self", "-p needs process ids separated by commas, got 'self'" },
  { "top.lua", "-u -m", "options -u, -m and -c exclude each other" },
  { "top.lua", "--depth 2", "--depth goes with -c" },
  { "top.lua", "-c -s map", "cannot sort by 'map' here (fields: cgroup procs uss pss rss swap shmem_swap footprint current unmapped)" },
  { "cgroup.lua", "-p 1 --depth 2", "options -p and --depth exclude each other" },
  { "cgroup.lua", "-p abc", "bad process id 'abc'" },
  { "cgroup.lua", "-s size", "-s needs one of path, current, limit, headroom, usage, anon, file, kernel, shmem, sock, swap, pressure, oom_kill, procs, got 'size'" },
  { "diff.lua", "-c a b 1", "-c goes with neither -m nor a PID" },
  { "diff.lua", "-c -s pss a b", "-c sorts by current, anon, file, kernel or swap, not 'pss'" },
  { "diff.lua", "-s kernel a b", "-s kernel goes with -c" },
  { "rules.lua", "--cgroup-usage 95,80 all", "--cgroup-usage: the critical level 80% is below the warning level 95%" },
  { "rules.lua", "--cgroup-pressure x all", "--cgroup-pressure needs WARN[,CRIT] percentages such as 80%,95%, got 'x'" },
  { "top.lua", "-m -s user", "cannot sort by 'user' here (fields: map procs maps uss pss rss swap footprint)" },
  { "top.lua", "12", "unknown argument '12'" },
  { "top.lua", "--ksm --cache", "options --ksm, --swapbacked and --cache exclude each other" },
  { "top.lua", "-m --swapbacked", "the page filters count processes' pages: not with -m or -c" },
  { "top.lua", "-c --ksm", "the page filters count processes' pages: not with -m or -c" },
  { "top.lua", "-u --wss 1", "--wss shows one column per process: not with -u, -m or -c" },
  { "top.lua", "-c --wss 1", "--wss shows one column per process: not with -u, -m or -c" },
  { "top.lua", "--wss 1 --ksm", "--wss counts all the pages referenced: not with a page filter" },
  { "top.lua", "--ksm -s footprint", "cannot sort by 'footprint' here (fields: pid user command uss pss rss)" },
  { "top.lua", "--depth 1 --cache", "--depth goes with -c" },

  { "wss.lua", "--reset-refs --idle 1", "options --reset-refs and --idle exclude each other" },
  { "wss.lua", "--reset-refs -i 0 1", "-i needs a number of seconds above 0, got '0'" },
  { "wss.lua", "--reset-refs", "no process id given" },
  { "wss.lua", "1", "choose how to measure: --reset-refs (clear_refs and smaps Referenced) or --idle "
    .. "(page_idle); both change what the kernel knows of the process's pages" },

  { "why.lua", "-x 1", "unknown option '-x'" },
  { "why.lua", "", "no process id given" },
  { "why.lua", "1 all", 'give process ids or "all", not both' },
  { "why.lua", "-t 0 1", "-t needs a number of seconds above 0, got '0'" },
  { "why.lua", "abc", "bad process id 'abc'" },

  { "wx.lua", "--bogus", "unknown option '--bogus'" },
  { "wx.lua", "one", "bad process id 'one'" },
  { "wx.lua", "1 all", 'give process ids or "all", not both' },
  { "wx.lua", "", "no process id given" },
}

T.test("usage errors: the message, then the usage line of the spec, exit 3, nothing on stdout", function()
  local seen = {}
  for _, case in ipairs(USAGE_ERRORS) do
    local name, args, message = case[1], case[2], case[3]
    seen[name] = true
    local out, err, status = memscript(name .. " " .. args, tree)
    local what = name .. " " .. args
    T.eq({ out, status }, { "", 3 }, what .. ": stdout and status")
    T.eq(err, "memscript: " .. name .. ": " .. message .. "\n" .. cli.usage(SPECS[name]), what .. ": stderr")
  end
  for name in pairs(SPECS) do T.ok(seen[name], name .. " has usage-error cases") end
end)

T.test("options: --opt=value, grouped short options, an attached value, --, repeats, counts", function()
  local path = tmp .. "/opts.lua"
  T.write(path, [[
local cli = require "memscript.cli"
local opts = cli.parse({ name = "opts.lua", summary = "options",
  options = {
    { "-n", "--rows", value = "N", type = "integer", min = 1, max = 99, noun = "rows" },
    { "-q", "--quiet" }, { "-v", count = true },
    { "-p", "--pid", value = "LIST", type = "pids", repeatable = true, key = "only" },
    { "--at-least", value = "SIZE", type = "size" },
  },
  operands = { { "PID", type = "pids", all = true } } }, arg)
print(require("memscript.output").json_encode(opts))
]])
  local function parsed(args) return T.json((memscript(T.q(path) .. " " .. args))) end
  T.eq(parsed("--rows=5 -qvv -p1,2 --pid 3 --at-least '1.5 GiB' 007 self 7"),
    { rows = 5, quiet = true, v = 2, only = { 1, 2, 3 }, at_least = 1610612736, pids = { 7, "self" }, all = false },
    "everything")
  T.eq(parsed("-n10 all"), { rows = 10, v = 0, pids = {}, all = true }, "attached value and all")
  T.eq(parsed("-- 12"), { v = 0, pids = { 12 }, all = false }, "-- before operands")
  local out, err, status = memscript(T.q(path) .. " -n 100 1")
  T.eq({ out, status }, { "", 3 }, "above max: stdout and status")
  T.eq(err:match("^[^\n]*"), "memscript: opts.lua: -n needs a number of rows from 1 to 99, got '100'", "above max")
  out, err, status = memscript(T.q(path) .. " -- -q")
  T.eq({ out, status }, { "", 3 }, "an operand after --: stdout and status")
  T.eq(err:match("^[^\n]*"), "memscript: opts.lua: bad process id '-q'", "an operand after --")
end)

---------------------------------------------------------------------------------------------------
-- One size grammar: units.parse, the where language and --max-memory on the same table.

local MiB = 1 << 20

-- text, bytes (nil: refused, with why)
local SIZES = {
  { "4096", 4096 }, { "4k", 4096 }, { "4K", 4096 }, { "4kB", 4096 }, { "4kb", 4096 }, { "4KiB", 4096 },
  { "4Ki", 4096 }, { "4KIB", 4096 }, { "4 kB", 4096 }, { "4\tK", 4096 }, { " 64M ", 64 * MiB },
  { "2m", 2 * MiB }, { "1.5M", 1572864 }, { "1.5G", 1610612736 }, { "2g", 2147483648 }, { "2gib", 2147483648 },
  { "3T", 3 << 40 }, { "1.5P", 1688849860263936 }, { "1.5 PiB", 1688849860263936 }, { "7E", 7 << 60 },
  { "100B", 100 }, { "100 b", 100 }, { "0.1K", 102 }, { "1.9", 1 }, { "0.5", 0 }, { "0", 0 },
  { "007M", 7 * MiB }, { "1.0000000001K", 1024 }, { "0.999999999999999999999M", MiB - 1 },
  { "8191.999999999999999999P", math.maxinteger }, { "9223372036854775807", math.maxinteger },
  { "8E", nil, "too large" }, { "9223372036854775808", nil, "too large" }, { "8 EiB", nil, "too large" },
  { "99999999999999999999999K", nil, "too large" },
  { "", nil, "invalid" }, { "lots", nil, "invalid" }, { "1.", nil, "invalid" }, { ".5", nil, "invalid" },
  { "-1", nil, "invalid" }, { "+1", nil, "invalid" }, { "1e5", nil, "invalid" }, { "1 K B", nil, "invalid" },
  { "1KiBB", nil, "invalid" }, { "1Mx", nil, "invalid" }, { "1,5M", nil, "invalid" }, { "1_000", nil, "invalid" },
  { "1iB", nil, "invalid" }, { "1 i", nil, "invalid" }, { "M", nil, "invalid" },
}

T.test("units.parse: the size table", function()
  for _, case in ipairs(SIZES) do
    local text, bytes, why = case[1], case[2], case[3]
    local value, err = units.parse(text)
    if bytes then
      T.eq(value, bytes, format("units.parse(%q)", text))
      T.eq(math.type(value), "integer", format("units.parse(%q) is an integer", text))
    else
      T.eq(value, nil, format("units.parse(%q) refused", text))
      T.contains(err, why == "too large" and "is too large (2^63 bytes, 8E, or more)" or "invalid size",
        format("units.parse(%q): message", text))
    end
  end
end)

T.test("the where language: the size table, as the right operand of ==", function()
  for _, case in ipairs(SIZES) do
    local text, bytes, why = case[1], case[2], case[3]
    local expr = "x == " .. text
    local ok, pred = pcall(where.compile, expr)
    if bytes then
      T.ok(ok, format("%q compiles: %s", expr, tostring(not ok and pred or "")))
      if ok then
        T.eq(pred({ x = bytes }), true, expr)
        T.eq(pred({ x = bytes - 1 }), false, expr .. " against one less")
      end
    elseif text:find("^%a") then
      -- not a size but a name, as any word is in the where language
      T.ok(ok and pred({ x = 5, [text] = 5 }) and not pred({ x = 5 }), format("%q compares x with the key %s", expr, text))
    else
      T.ok(not ok, format("%q is refused", expr))
      if why == "too large" then T.contains(pred, "expected a size below 2^63 bytes (8E)", expr) end
    end
  end
end)

T.test("--max-memory: the size table (0 bytes is no cap, and is refused as one)", function()
  -- heaps from 1 MiB to 64 MiB are reached quickly: the message names the cap in bytes
  local grow = T.q("local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(100) .. i end")
  for _, case in ipairs(SIZES) do
    local text, bytes, why = case[1], case[2], case[3]
    local what = format("--max-memory %q", text)
    if bytes and bytes >= MiB and bytes <= 64 * MiB then
      local _, err, status = memscript("--max-memory " .. T.q(text) .. " -e " .. grow)
      T.eq({ err, status }, { format("memscript: not enough memory: the run reached its --max-memory "
        .. "limit of %d bytes\n", bytes), 3 }, what)
    elseif bytes and bytes > 0 then
      local _, err = memscript("--max-memory " .. T.q(text) .. " -e ''")
      T.ok(not err:find("--max-memory needs", 1, true), what .. " accepted: " .. err)
    else
      local out, err, status = memscript("--max-memory " .. T.q(text) .. " -e 'print(1)'")
      local expected = why == "too large" and "needs a size below 2^63 bytes (8E)"
        or bytes == 0 and "needs a size above 0" or "needs a size such as 64M"
      T.eq({ out, status }, { "", 3 }, what .. " refused: stdout and status")
      T.eq(err, format("memscript: --max-memory %s, got '%s'\n", expected, text), what .. " refused: stderr")
    end
  end
end)

T.test("a size option of a script reads the same table (rules.lua --rss, via alert.thresholds)", function()
  for _, case in ipairs(SIZES) do
    local text, bytes = case[1], case[2]
    if text ~= "" and not text:find(",", 1, true) then
      local limits, err = require("memscript.alert").thresholds(text)
      if bytes then
        T.eq(limits and limits.warn, bytes, format("thresholds(%q)", text))
      else
        T.eq(limits, nil, format("thresholds(%q) refused: %s", text, tostring(err)))
      end
    end
  end
  local out, err, status = memscript("-f json rules.lua --rss '1.5 PiB' self")
  T.eq({ err, status }, { "", 0 }, "rules.lua --rss '1.5 PiB': stderr and status")
  local result = T.json(out)
  local found
  for _, perf in ipairs(result.perfdata or {}) do
    if perf.label == "rss" then found = perf end
  end
  T.ok(found ~= nil, "rss perfdata in " .. out)
  T.eq(found and found.warn, 1688849860263936, "the warning threshold in bytes")
end)

T.done()
