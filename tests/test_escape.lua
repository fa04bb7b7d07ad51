-- Text a process chose (comm, command line, memfd and file names) never reaches a terminal or a line raw.
--
-- tests/helper/hostile names itself and its memory with escape sequences and stops. Every bundled
-- script that prints such text runs on it on a pseudo-terminal (tests/helper/ptydrive -r, which keeps
-- every byte) and into a pipe; the output is checked byte by byte. JSON, CSV and the Prometheus format
-- carry the text exactly (as valid UTF-8) into a pipe, and are checked for that.

local T = require "testing"
local text = require "memscript.text"
local classify = require "memscript.classify"

local format, concat, gsub, sub = string.format, table.concat, string.gsub, string.sub
local escape, valid_utf8 = text.escape, text.valid_utf8

local hostile_bin = T.build .. "/tests/hostile"
local ptydrive = T.build .. "/tests/ptydrive"

-- The names. The comm holds no carriage return: memscript's status parser takes a line holding one
-- for CRLF line ends and refuses it, so a process so named cannot be read by the scripts at all.
local ARGV0 = "\27]0;pwned\a\nhost\tile"                          -- OSC retitles the window; LF, TAB
local COMM = "\27[2K\a\xe2\x80\xae\xc2\x9b\"\\\x9b\xff"               -- 14 bytes: the kernel keeps 15
local MEMFD = "\27[2K\rOK: nothing to see\a|\x9b\xc2\x9b\xff\xe2\x80\xae\t\n\\x"
local FILE = "evil\27]0;title\a\r\x9b\xc2\x9b\xff\xc0\xaf\xed\xa0\x80\xe2\x80\xae\\\t\xe2\x80\x8f.bin"
local ANON = "\27[2K"
local EXTRA = { "\r", "new\nline", "\a", "\x9b", "\xff\xfe", "\xe2\x80\xae", "back\\slash", "plain" }

local ARGS = { COMM, MEMFD, FILE, ANON }
for _, a in ipairs(EXTRA) do ARGS[#ARGS + 1] = a end

-- ---- the helper ----

local function state_of(pid)
  local stat = T.read_if("/proc/" .. pid .. "/stat")
  return stat and stat:match("^.*%) (%a)")
end

local function stop(h)
  if h.stopped then return end
  h.stopped = true
  if h.pid then os.execute("kill -KILL " .. h.pid .. " 2>/dev/null") end
  if h.dir and h.dir:match("/hostile%.%w+$") then os.execute("rm -rf " .. T.q(h.dir)) end
  os.remove(h.out_path)
end

-- Starts the helper with argv[0] ARGV0 (bash's exec -a) and waits until it has stopped itself.
local function start()
  local words = {}
  for i, a in ipairs(ARGS) do words[i] = T.q(a) end
  local h = { out_path = os.tmpname(), regions = {}, anon = {} }
  local pid_text = T.run(format("bash -c 'exec -a \"$0\" \"$@\"' %s %s %s >%s & echo $!", T.q(ARGV0),
    T.q(hostile_bin), concat(words, " "), T.q(h.out_path)))
  h.pid = tonumber(pid_text:match("%d+"))
  local deadline = os.time() + 10
  while h.pid and state_of(h.pid) ~= "T" do
    if os.time() > deadline or not state_of(h.pid) then break end
    os.execute("sleep 0.02")
  end
  local described = T.read_if(h.out_path) or ""
  for line in described:gmatch("[^\n]+") do
    h.dir = h.dir or line:match("^hostile pid=%d+ page_size=%d+ dir=(.+)$")
    local name, start_hex, size = line:match("^region (%S+) (%x+) (%d+)$")
    if name then h.regions[name] = { start = tonumber(start_hex, 16), size = tonumber(size) } end
    local which, outcome = line:match("^anon_name (%S+) (.+)$")
    if which then h.anon[which] = outcome end
    h.ready = h.ready or line == "ready"
  end
  if not (h.pid and h.ready and state_of(h.pid) == "T") then
    stop(h)
    error("the hostile helper did not start and stop itself: " .. escape(described))
  end
  return h
end

local h = start()
local cleanup <close> = setmetatable({}, { __close = function() stop(h) end })
local PID = tostring(h.pid)

-- What the kernel shows: a newline of a memfd name as "\012", a memfd as deleted.
local MEMFD_PATH = "/memfd:" .. gsub(MEMFD, "\n", "\\012") .. " (deleted)"
local FILE_PATH = h.dir .. "/" .. FILE
local CMDLINE = concat({ ARGV0, concat(ARGS, " ") }, " ")

-- A value in a check's detail line: quoted, with its escapes, '"' as \" and '|' as a broken bar.
local function detail_value(v)
  return '"' .. gsub(gsub(escape(v), '"', '\\"'), "|", "\194\166") .. '"'
end

-- ---- running a script ----

local function command(args)
  return format("env LC_ALL=C.UTF-8 %s %s", T.q(T.bin), args)
end

-- stdout (and stderr after it) of a run into a pipe.
local function piped(args)
  local out, err, status = T.run(command(args))
  return out .. err, status
end

-- Everything a run on a terminal printed (stdout and stderr), exactly, but for the terminal's CRLF.
local function on_terminal(args, steps)
  local out, err, status = T.run(format("%s -r -t 30 -s 200x50 -- sh -c %s", T.q(ptydrive),
    T.q("exec env TERM=xterm " .. command(args))), steps or "wait\n")
  if status == 124 or status == 125 or status == 126 then
    error(format("ptydrive failed (%d): %s", status, err), 2)
  end
  return (gsub(out, "\r\n", "\n")), status
end

-- The code points of the C1 and bidirectional controls and the line and paragraph separators.
local function unsafe_code_point(cp)
  return (cp >= 0x80 and cp <= 0x9f) or cp == 0x61c or cp == 0x200e or cp == 0x200f
    or (cp >= 0x2028 and cp <= 0x202e) or (cp >= 0x2066 and cp <= 0x2069)
end

-- out with the control sequences a script writes itself on a terminal (own) each made a line break.
local function without_own(out, own)
  for _, sequence in ipairs(own or {}) do out = out:gsub(sequence:gsub("%p", "%%%0"), "\n") end
  return out
end

-- Fails unless out holds no raw ESC, BEL, CR or other control but newline, no invalid UTF-8, and no
-- C1 or bidirectional control.
local function check_clean(out, where)
  local at = out:find("[%z\1-\9\11-\31\127]")
  if at then
    error(format("%s: a raw control byte 0x%02x at byte %d: %s", where, out:byte(at), at,
      escape(sub(out, math.max(1, at - 40), at + 40))), 2)
  end
  local _, bad = utf8.len(out)
  if bad then
    error(format("%s: invalid UTF-8 at byte %d: %s", where, bad, escape(sub(out, math.max(1, bad - 40), bad + 40))), 2)
  end
  for pos, cp in utf8.codes(out) do
    if unsafe_code_point(cp) then
      error(format("%s: U+%04X raw at byte %d: %s", where, cp, pos, escape(sub(out, math.max(1, pos - 40), pos + 40))), 2)
    end
  end
end

-- Fails unless each line of out matches one of the patterns: no newline split a row.
local function check_lines(out, patterns, where)
  for line in out:gmatch("([^\n]*)\n") do
    local fits = false
    for _, pattern in ipairs(patterns) do fits = fits or line:find(pattern) ~= nil end
    if not fits then error(format("%s: a line that is no row of the output: %s", where, escape(line)), 2) end
  end
end

-- The names of the helper's mappings as diff.lua and top.lua -m group them.
local smaps = assert(proc.smaps(h.pid))
local function count_names(name_of)
  local seen, n = {}, 0
  for _, m in ipairs(smaps) do
    local name = name_of(m)
    if not seen[name] then seen[name], n = true, n + 1 end
  end
  return n
end
local function mapping_at(start)
  for _, m in ipairs(smaps) do
    if m.vm_start == start then return m end
  end
  error(format("no mapping at %x", start))
end
local file_mapping, memfd_mapping = mapping_at(h.regions.file.start), mapping_at(h.regions.memfd.start)

T.test("the helper's names are what the kernel shows", function()
  T.eq(file_mapping.path, FILE_PATH, "file path")
  T.eq(memfd_mapping.path, MEMFD_PATH, "memfd path")
  T.eq(proc.comm(h.pid), COMM, "comm")
  local args = assert(proc.cmdline(h.pid))
  T.eq(concat(args, " "), CMDLINE, "command line")
end)

-- ---- every script, on a terminal and into a pipe ----

-- { title, arguments, want = texts that must appear, lines = patterns every line matches,
--   line_count = the number of lines, own = the script's own control sequences on a terminal }
local SCRIPTS = {
  { "report.lua -x (pmap's text)", "report.lua -x " .. PID,
    want = { "\\u{202E}\\u{009B}", "  [ stack ]", " evil?]0;title", "hostile\n" },
    lines = { "^%d+:   ", "^Address ", "^%x+ ", "^%-+ ", "^total kB " } },
  { "report.lua -X", "report.lua -X " .. PID,
    want = { "\\u{202E}\\u{009B}", " " .. escape(FILE, "\\") .. "\n", " " .. escape(sub(MEMFD_PATH, 2), "\\") .. "\n",
             " [stack]\n" },
    lines = { "^%d+:   ", "^ ", "^%x+ " } },
  { "report.lua -XX -p", "report.lua -XX -p " .. PID,
    want = { " " .. escape(FILE_PATH, "\\") .. "\n", " " .. escape(MEMFD_PATH, "\\") .. "\n" },
    lines = { "^%d+:   ", "^ ", "^%x+ " } },
  { "top.lua -p", "top.lua -p " .. PID,
    want = { escape(sub(CMDLINE, 1, 20)), "PID  User  Command" },
    lines = { "^ *PID ", "^ *%d+ ", "^%-+$", "^ +total: " } },
  { "top.lua -m -p", "top.lua -m -p " .. PID,
    want = { escape("/memfd:\27[2K\rOK: nothing to see\a|"), escape(h.dir .. "/evil\27]0;title\a\r"), hostile_bin },
    line_count = count_names(function(m) return m.path == "" and "[anon]" or m.path end) + 3 },
  { "wx.lua", "wx.lua " .. PID,
    want = { "command=" .. detail_value(COMM), "path=" .. detail_value(FILE_PATH), "path=" .. detail_value(MEMFD_PATH),
             "CRITICAL: writable+executable mapping in pid " .. PID .. " (" },
    lines = { "^MEMSCRIPT CRITICAL %- ", "^CRITICAL: ", "^WARNING: " } },
  { "rules.lua", "rules.lua " .. PID,
    want = { "comm=" .. detail_value(COMM), "path=" .. detail_value(FILE_PATH), "path=" .. detail_value(MEMFD_PATH) },
    lines = { "^MEMSCRIPT CRITICAL %- ", "^CRITICAL: ", "^WARNING: " } },
  { "leak.lua", "leak.lua --count 1 " .. PID,
    want = { format("pid %s (%s): 1 samples", PID, escape(COMM)) },
    own = { "\r\27[K" } },
  { "leak.lua --threshold", "leak.lua --count 1 --threshold 1M " .. PID,
    want = { format("too few samples of pid %s (%s)", PID, escape(COMM)) },
    lines = { "^MEMSCRIPT UNKNOWN %- ", "^UNKNOWN: ", "^pid %d+ anonymous ", "^$" },
    own = { "\r\27[K" } },
  { "diff.lua -a live live PID", "diff.lua -a live live " .. PID,
    want = { escape(MEMFD_PATH) .. "\n", escape(FILE_PATH) .. "\n" },
    line_count = count_names(function(m) return m.path ~= "" and m.path or "[" .. classify.kind(m) .. "]" end) + 1 },
  -- diff.lua's table cuts a command to 40 bytes when it is not valid UTF-8
  { "diff.lua -a live live", "diff.lua -a live live",
    want = { " " .. PID .. " ", escape(sub(CMDLINE, 1, 40)) .. "\n" },
    lines = { "^Change ", "^ +%d+ ", "^new ", "^gone ", "^memscript: " } },
  { "flags.lua", "flags.lua " .. PID,
    want = { format("%08x-%08x %s %s\n", file_mapping.vm_start, file_mapping.vm_end, file_mapping.perms,
                    escape(FILE_PATH)),
             format("%08x-%08x %s %s\n", memfd_mapping.vm_start, memfd_mapping.vm_end, memfd_mapping.perms,
                    escape(MEMFD_PATH)) },
    lines = { "^%x+%-%x+ %S+", "^  %a%a  ", "^$", "^Flag ", "^%a%a  " } },
  { "query.lua", "query.lua " .. PID .. " 'writable and executable'",
    want = { escape(FILE_PATH) .. "\n" },
    line_count = 2 },
}

for _, entry in ipairs(SCRIPTS) do
  for _, where in ipairs({ "terminal", "pipe" }) do
    T.test(format("%s on a %s: no raw control, C1, bidi or invalid byte; the escapes appear", entry[1], where),
      function()
        local out
        if where == "terminal" then out = without_own(on_terminal(entry[2]), entry.own) else out = piped(entry[2]) end
        check_clean(out, entry[1])
        for _, want in ipairs(entry.want) do T.contains(out, want, entry[1]) end
        if entry.lines then check_lines(out, entry.lines, entry[1]) end
        if entry.line_count then
          T.eq(select(2, out:gsub("\n", "")), entry.line_count, entry[1] .. ": lines")
        end
      end)
  end
end

T.test("report.lua -x and -d print what pmap prints for the helper in the C locale, byte for byte", function()
  local _, _, has = T.run("command -v pmap")
  if has ~= 0 then T.skip("pmap is not installed") end
  for _, option in ipairs({ "-x", "-d" }) do
    -- pmap before and after: a page the kernel reclaimed meanwhile shows as a change, and is retried
    local pmap = format("env LC_ALL=C pmap %s %s", option, PID)
    local out, err, status, expected
    for _ = 1, 5 do
      expected = T.run(pmap)
      out, err, status = T.run(format("env LC_ALL=C %s report.lua %s %s", T.q(T.bin), option, PID))
      if T.run(pmap) == expected then break end
    end
    T.eq({ status, err }, { 0, "" }, "status and stderr")
    T.same_text(out, expected, "report.lua " .. option)
    check_clean(out, "report.lua " .. option)
  end
end)

T.test("report.lua's first line in a UTF-8 locale: pmap's, with the C1 and bidi controls pmap keeps escaped", function()
  local _, _, has = T.run("command -v pmap")
  if has ~= 0 then T.skip("pmap is not installed") end
  local pmap_first = T.run(format("env LC_ALL=C.UTF-8 pmap -x %s", PID)):match("^[^\n]*")
  T.ok(pmap_first:find("\xe2\x80\xae\xc2\x9b", 1, true), "pmap prints U+202E and U+009B raw")
  local first = T.run(command("report.lua -x " .. PID)):match("^[^\n]*")
  T.eq(first, (pmap_first:gsub("\xe2\x80\xae", "\\u{202E}"):gsub("\xc2\x9b", "\\u{009B}")), "first line")
end)

-- ---- the REPL's pretty-printer ----

T.test("the REPL shows the helper's mappings, comm and command line escaped", function()
  local function line(s) return "raw\nsend " .. s .. "\\r" end
  local steps = {
    "expect > ",
    line(format("pp(proc.smaps(%s):filter(function(m) return m.vm_start == 0x%x or m.vm_start == 0x%x end))",
      PID, file_mapping.vm_start, memfd_mapping.vm_start)),
    "expect 2 mappings", "expect > ",
    line(format("proc.comm(%s)", PID)), "expect > ",
    line(format("{ proc.comm(%s) }", PID)), "expect > ",
    line(format("proc.cmdline(%s)", PID)), "expect > ",
    "raw", "send \\x04", "wait",
  }
  local out, status = on_terminal("", concat(steps, "\n") .. "\n")
  T.eq(status, 0, "session status:\n" .. escape(out, "\n"))
  -- libedit writes its own ESC and CR sequences; none of the helper's may appear
  for _, raw in ipairs({ "\27[2K", "\27]0;", "\rOK:", "\a", "\xe2\x80\xae", "\xc2\x9b" }) do
    T.ok(not out:find(raw, 1, true), "raw " .. escape(raw) .. " in the session:\n" .. escape(out, "\n"))
  end
  T.ok(utf8.len(out) ~= nil, "the session is valid UTF-8")
  T.contains(out, "  " .. escape(FILE_PATH) .. "\n", "file mapping row")
  T.contains(out, "  " .. escape(MEMFD_PATH) .. "\n", "memfd mapping row")
  T.contains(out, "\n" .. escape(COMM) .. "\n", "comm at the top, as its text")
  T.contains(out, '{ "' .. gsub(escape(COMM), '"', '\\"') .. '" }', "comm in a table, as a Lua literal")
  T.contains(out, '"' .. gsub(escape(MEMFD), '"', '\\"') .. '"', "a command-line argument as a Lua literal")
end)

-- ---- JSON, CSV and Prometheus: exact, valid UTF-8 ----

T.test("JSON: the command line and names exact with U+FFFD for invalid bytes, nothing raw a terminal acts on", function()
  local out = piped("-f json top.lua -p " .. PID)
  check_clean(out:gsub("\n$", ""), "top.lua -f json")
  local rows = T.json(out)
  T.eq(rows[1].command, valid_utf8(CMDLINE), "command")
  out = piped("-f json report.lua -XX -p " .. PID)
  check_clean(out:gsub("\n$", ""), "report.lua -f json")
  local found = {}
  for _, row in ipairs(T.json(out)) do found[row.mapping] = true end
  T.ok(found[valid_utf8(FILE_PATH)] and found[valid_utf8(MEMFD_PATH)], "file and memfd mappings")
end)

T.test("CSV into a pipe: RFC 4180 rows holding the exact text, U+FFFD where the bytes were not UTF-8", function()
  local out = piped("-f csv top.lua -p " .. PID)
  T.ok(out:find("\27", 1, true) and out:find("\r", 1, true), "ESC and CR kept in the data")
  local records = T.csv(out)
  T.eq(records[1][3], "command", "header")
  T.eq(records[2][3], valid_utf8(CMDLINE), "command")
  T.ok(records[2][3]:find("\239\191\189", 1, true), "U+FFFD in place of the bytes 0x9b and 0xff")
  records = T.csv(piped("-f csv wx.lua " .. PID))
  local paths = {}
  for i = 2, #records do paths[records[i][6]] = true end
  T.ok(paths[valid_utf8(FILE_PATH)] and paths[valid_utf8(MEMFD_PATH)], "paths in wx.lua's rows")
end)

T.test("CSV on a terminal: fields escaped as a table's, still RFC 4180", function()
  -- records end with CRLF, which the terminal made CR CR LF: both CRs go, then CRLF comes back
  local out = on_terminal("-f csv top.lua -p " .. PID):gsub("\r\n", "\n")
  check_clean(out, "top.lua -f csv")
  local records = T.csv((out:gsub("\n", "\r\n")))
  T.eq(records[2][3], escape(CMDLINE), "command")
end)

local function promtool(path)
  local out, err, status = T.run("promtool check metrics < " .. T.q(path))
  return status, out .. err
end

-- The exposition format's escapes of a label value.
local function label(v)
  return (gsub(v, '[\\\n"]', { ["\\"] = "\\\\", ["\n"] = "\\n", ['"'] = '\\"' }))
end

T.test("Prometheus: a hostile comm is a valid label value, exact into a pipe, escaped on a terminal", function()
  local _, _, has = T.run("command -v promtool")
  if has ~= 0 then T.skip("promtool is not installed (Debian package prometheus)") end
  local tmp, tmp_cleanup <close> = T.tempdir()
  local out = piped("-f prom exporter.lua " .. PID)
  T.contains(out, 'command="' .. label(valid_utf8(COMM)) .. '"', "exact label value")
  T.write(tmp .. "/pipe.prom", out)
  local status, said = promtool(tmp .. "/pipe.prom")
  T.eq(status, 0, "promtool on the piped output: " .. said)
  out = on_terminal("-f prom exporter.lua " .. PID)
  check_clean(out, "exporter.lua on a terminal")
  T.contains(out, 'command="' .. label(escape(COMM)) .. '"', "escaped label value")
  T.write(tmp .. "/terminal.prom", out)
  status, said = promtool(tmp .. "/terminal.prom")
  T.eq(status, 0, "promtool on the terminal's output: " .. said)
end)

-- ---- anonymous mapping names ----

T.test("[anon:NAME]: the kernel refuses control bytes in a name, or the name is escaped", function()
  if h.anon.plain ~= "set" then
    T.skip("this kernel names no anonymous mappings (CONFIG_ANON_VMA_NAME): " .. tostring(h.anon.plain), "anywhere")
  end
  local out = piped("report.lua -X " .. PID)
  if h.anon.hostile == "set" then
    T.contains(out, " [anon:" .. escape(ANON, "\\") .. "]\n", "escaped name")
  else
    T.eq(h.anon.hostile, "refused Invalid argument", "the kernel's answer")
    T.contains(out, " [anon:hostile-plain]\n", "the plain name")
  end
  check_clean(out, "report.lua -X")
end)

T.done()
