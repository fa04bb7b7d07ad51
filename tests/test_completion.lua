-- bash completion (dist/bash-completion/memscript): what Tab offers, asked of memscript itself.
--
-- Each case loads the completion file into a bash, finds the function `complete -p memscript`
-- registered, sets COMP_WORDS and COMP_CWORD as bash sets them (it splits "--root=DIR" into
-- "--root", "=", "DIR") and prints COMPREPLY; the function itself calls compgen. The last test
-- presses Tab in an interactive bash on a pseudo-terminal.

local T = require "testing"
local live = require "livehelper"

local completion_file = T.source .. "/dist/bash-completion/memscript"
local capture = T.fixtures .. "/helper-capture"
local tmp, tmp_cleanup <close> = T.tempdir()

-- Runs the completion function on the command line memscript WORDS... (the last word is the one
-- being completed; "" after a space) and prints what it offers, one per line.
local driver = tmp .. "/complete.sh"
T.write(driver, [==[
source "$1" || exit 90
spec=$(complete -p memscript) || exit 91
[[ $spec == "complete -F "*" memscript" ]] || exit 92
fn=${spec#complete -F }
fn=${fn%% *}
shift
COMP_CWORD=$1
shift
COMP_WORDS=("$@")
COMP_LINE="${COMP_WORDS[*]}"
COMP_LINE=${COMP_LINE// = /=}
COMP_POINT=${#COMP_LINE}
# what readline replaces: the text after the last word break, so nothing right after an "="
cur=${COMP_WORDS[COMP_CWORD]}
[[ $cur == "=" ]] && cur=
COMPREPLY=()
"$fn" "${COMP_WORDS[0]}" "$cur" "${COMP_WORDS[COMP_CWORD - 1]}"
status=$?
(( ${#COMPREPLY[@]} > 0 )) && printf '%s\n' "${COMPREPLY[@]}"
exit $status
]==])

-- The sorted words Tab offers after `memscript WORDS...`. opts.dir: the directory bash runs in
-- (a new empty one by default, so no file of the test's directory is offered).
local function complete(words, opts)
  opts = opts or {}
  local dir = opts.dir
  if not dir then
    dir = T.sh("mktemp -d -p " .. T.q(tmp)):gsub("\n$", "")
  end
  local argv = { T.q(driver), T.q(completion_file), tostring(#words), T.q(opts.command or T.bin) }
  for _, word in ipairs(words) do argv[#argv + 1] = T.q(word) end
  local out, err, status = T.run("cd " .. T.q(dir) .. " && env -u MEMSCRIPT_PATH -u MEMSCRIPT_PROC_ROOT " ..
    "bash --norc --noprofile " .. table.concat(argv, " "))
  T.eq(status, 0, "the completion's status (stderr: " .. err .. ")")
  T.eq(err, "", "the completion's stderr")
  local offered = {}
  for line in out:gmatch("[^\n]+") do offered[#offered + 1] = line end
  table.sort(offered)
  return offered
end

local function sorted(list)
  table.sort(list)
  return list
end

local function set_of(list)
  local set = {}
  for _, v in ipairs(list) do set[v] = true end
  return set
end

-- The bundled scripts, from the source tree.
local function bundled()
  local names = {}
  for name in T.sh("ls " .. T.q(T.source .. "/scripts")):gmatch("[^\n]+") do
    if name:match("%.lua$") then names[#names + 1] = name end
  end
  return sorted(names)
end

-- Every option name (-x, --name) in the option table of a --help text, once: rows such as
-- "  -f, --format F  ...". A row for a short flag given twice (report.lua's "-XX", which is -X
-- twice) names no option of its own.
local function help_options(help)
  local names, seen = {}, {}
  for line in help:gmatch("[^\n]+") do
    local label = line:match("^  (%-[^ ].-)  ") or line:match("^  (%-[^ ].-)$")
    if label then
      for name in (label .. " "):gmatch("(%-%-?%w[%w-]*)[ ,]") do
        if not seen[name] then names[#names + 1] = name; seen[name] = true end
      end
    end
  end
  local options = {}
  for _, name in ipairs(names) do
    local letter = name:match("^%-(%a)%1$")
    if not (letter and seen["-" .. letter]) then options[#options + 1] = name end
  end
  return sorted(options)
end

T.test("the file registers _memscript for memscript with complete -F", function()
  local out, err, status = T.run("bash --norc --noprofile -c " ..
    T.q("source " .. T.q(completion_file) .. " && complete -p memscript"))
  T.eq({ out, err, status }, { "complete -F _memscript memscript\n", "", 0 }, "complete -p memscript")
end)

T.test("memscript's own options are those of memscript --help, every one", function()
  local help = T.memscript(nil, "--help")
  local expected = help_options(help)
  T.ok(set_of(expected)["--root"] and set_of(expected)["-e"] and set_of(expected)["--max-memory"],
    "--help lists --root, -e and --max-memory: " .. table.concat(expected, " "))
  T.eq(complete({ "-" }), expected, "options offered for '-'")
  local long = {}
  for _, name in ipairs(expected) do
    if name:match("^%-%-") and name:match("^%-%-p") then long[#long + 1] = name end
  end
  T.eq(complete({ "--p" }), long, "options offered for '--p'")
end)

T.test("-f offers the formats memscript accepts, in both spellings of the option", function()
  local formats = complete({ "-f", "" })
  T.eq(formats, { "csv", "folded", "json", "prom", "table" }, "formats after -f")
  for _, format in ipairs(formats) do
    local _, err, status = T.memscript(nil, "-f " .. format .. " -e ''")
    T.eq({ err, status }, { "", 0 }, "memscript -f " .. format)
  end
  local _, err, status = T.memscript(nil, "-f yaml -e ''")
  T.eq(status, 3, "memscript -f yaml is refused with status 3")
  T.contains(err, "(table, json, csv, prom or folded)", "the formats memscript names")
  T.eq(complete({ "--format", "=", "" }), formats, "after --format=")
  T.eq(complete({ "--format", "=", "j" }), { "json" }, "after --format=j")
  T.eq(complete({ "-f", "c" }), { "csv" }, "after -f c")
end)

T.test("the first word is a bundled script (as --list names them) or a file", function()
  local scripts = bundled()
  T.ok(#scripts >= 12, "the bundled scripts: " .. table.concat(scripts, " "))
  T.eq(complete({ "" }), scripts, "an empty directory: the bundled scripts")
  T.eq(complete({ "rep" }), { "report.lua" }, "'rep'")
  local dir = tmp .. "/mine"
  T.sh("mkdir -p " .. T.q(dir .. "/sub") .. " && : > " .. T.q(dir .. "/my.lua"))
  T.eq(complete({ "m" }, { dir = dir }), { "map.lua", "meminfo.lua", "my.lua" }, "'m' beside my.lua")
  T.eq(complete({ "s" }, { dir = dir }), { "status.lua", "sub", "system.lua" }, "'s' beside a directory sub")
  T.eq(complete({ "-e", "print(1)", "rep" }), { "report.lua" }, "after -e CODE")
  T.eq(complete({ "--complete", "ex" }), { "exporter.lua" }, "the script --complete describes")
end)

T.test("each bundled script's options are those of its --help", function()
  for _, script in ipairs(bundled()) do
    local help, err, status = T.memscript(nil, script .. " --help")
    T.eq({ err, status }, { "", 0 }, script .. " --help")
    local expected = help_options(help)
    T.ok(set_of(expected)["--help"], script .. " --help lists --help")
    T.eq(complete({ script, "-" }), expected, "options offered after " .. script)
  end
  T.eq(complete({ "report.lua", "--sh" }), { "--show-path" }, "report.lua --sh")
end)

T.test("option values: choices, files, and nothing for a number", function()
  T.eq(complete({ "top.lua", "-s", "" }),
    sorted({ "pid", "user", "command", "procs", "map", "maps", "uss", "pss", "rss", "swap", "shmem_swap", "footprint",
      "cgroup", "current", "unmapped" }), "top.lua -s")
  T.eq(complete({ "top.lua", "--sort", "=", "p" }), { "pid", "procs", "pss" }, "top.lua --sort=p")
  local dir = tmp .. "/files"
  T.sh("mkdir -p " .. T.q(dir .. "/rulesdir") .. " && : > " .. T.q(dir .. "/a.lua") .. " && : > " .. T.q(dir .. "/b.txt"))
  T.eq(complete({ "rules.lua", "--rules", "" }, { dir = dir }), { "a.lua", "b.txt", "rulesdir" }, "rules.lua --rules")
  T.eq(complete({ "rules.lua", "-r", "r" }, { dir = dir }), { "rulesdir" }, "rules.lua -r r")
  T.eq(complete({ "-o", "b" }, { dir = dir }), { "b.txt" }, "memscript -o b")
  T.eq(complete({ "exporter.lua", "--top", "" }), {}, "exporter.lua --top N")
  T.eq(complete({ "--timeout", "" }), {}, "memscript --timeout SECS")
end)

T.test("--root and --proc-root offer directories and archives, not other files", function()
  local dir = tmp .. "/trees"
  T.sh("mkdir -p " .. T.q(dir .. "/capture") .. " && cd " .. T.q(dir) ..
    " && : > cap.tar.gz && : > cap.tgz && : > cap.tar.zst && : > cap.zip && : > notes.txt && : > cap.lua")
  local expected = { "cap.tar.gz", "cap.tar.zst", "cap.tgz", "cap.zip", "capture" }
  T.eq(complete({ "--root", "" }, { dir = dir }), expected, "--root")
  T.eq(complete({ "--proc-root", "=", "cap" }, { dir = dir }), expected, "--proc-root=cap")
end)

T.test("process ids come from the /proc being read: --root and --proc-root are passed on", function()
  T.eq(complete({ "--root", capture, "report.lua", "" }), { "1848", "1850", "self" }, "report.lua on the capture")
  T.eq(complete({ "--root", "=", capture, "wx.lua", "" }), { "1848", "1850", "all", "self" },
    "wx.lua (PID...|all) on --root=capture")
  T.eq(complete({ "--proc-root", capture .. "/proc", "exporter.lua", "--top", "3", "18" }), { "1848", "1850" },
    "after --top 3, the next word is a process id")
  T.eq(complete({ "--root", capture, "top.lua", "-p", "1848,18" }), { "1848,1848", "1848,1850" },
    "top.lua -p: the last of the process ids separated by commas")
  T.eq(complete({ "--root", capture, "query.lua", "1848", "" }), {}, "query.lua's second operand is an expression")
  T.eq(complete({ "--root", capture, "report.lua", "--", "-" }), {}, "after --, no option")
end)

T.test("a live process's id is offered", function()
  local h = live.start()
  local ok, problem = pcall(function()
    local offered = complete({ "report.lua", tostring(h.pid) })
    T.ok(set_of(offered)[tostring(h.pid)], "the helper's pid " .. h.pid .. " among " .. table.concat(offered, " "))
    for _, pid in ipairs(offered) do
      T.ok(pid:sub(1, #tostring(h.pid)) == tostring(h.pid), "every offer starts with the typed digits: " .. pid)
    end
  end)
  live.stop(h)
  if not ok then error(problem, 0) end
end)

T.test("Tab never runs a script another user could have written; your own is described, with no effect", function()
  local _, _, is_root = T.run("test \"$(id -u)\" = 0")
  if is_root ~= 0 then T.skip("needs root to give a file to another user") end
  local dir = tmp .. "/planted"
  T.sh("mkdir -p " .. T.q(dir))
  local body = 'local o = require "os" o.execute("touch ran-" .. (arg[0]:match("([^/]+)%.lua$")))\n' ..
    'local cli = require "memscript.cli"\n' ..
    'cli.parse({ name = "x.lua", summary = "x", options = { { "--planted", help = "p" } } }, arg)\n'
  for _, name in ipairs({ "theirs", "writable", "mine" }) do T.write(dir .. "/" .. name .. ".lua", body) end
  T.sh("cd " .. T.q(dir) .. " && chown nobody theirs.lua && chmod 0644 theirs.lua mine.lua && chmod 0666 writable.lua")
  T.eq(complete({ "theirs.lua", "--" }, { dir = dir }), {}, "another user's script: no option offered")
  T.eq(complete({ "writable.lua", "--p" }, { dir = dir }), {}, "a script others may write: no option offered")
  T.eq(complete({ "./theirs.lua", "--" }, { dir = dir }), {}, "the same through a path")
  T.eq(T.sh("cd " .. T.q(dir) .. " && ls"), "mine.lua\ntheirs.lua\nwritable.lua\n", "neither script ran")
  -- describing runs a script only up to its command line, with no io, os or module but memscript.cli:
  -- your own script that runs a command first is not described, and the command does not run
  T.eq(complete({ "mine.lua", "--p" }, { dir = dir }), {}, "your own script that does work first: no option offered")
  T.eq(T.read_if(dir .. "/ran-mine"), nil, "and its command did not run")
  T.write(dir .. "/plain.lua", 'local cli = require "memscript.cli"\n' ..
    'cli.parse({ name = "plain.lua", summary = "x", options = { { "--planted", help = "p" } } }, arg)\n')
  T.sh("chmod 0644 " .. T.q(dir .. "/plain.lua"))
  T.eq(complete({ "plain.lua", "--p" }, { dir = dir }), { "--planted" }, "your own script's options")
end)

T.test("in an interactive bash, Tab completes a script name and a format after --format=", function()
  local ptydrive = T.build .. "/tests/ptydrive"
  local bin_dir = tmp .. "/bin"
  T.sh("mkdir -p " .. T.q(bin_dir) .. " && ln -sf " .. T.q(T.bin) .. " " .. T.q(bin_dir .. "/memscript"))
  local rc = tmp .. "/bashrc"
  T.write(rc, "PS1='$ '\nPATH=" .. T.q(bin_dir) .. ":$PATH\nsource " .. T.q(completion_file) .. "\n")
  local steps = table.concat({
    "expect $ ",
    "send memscript rep\\t",
    "expect report.lua ",
    "# Ctrl-U: the line is thrown away",
    "send \\x15",
    "send memscript --format=js\\t",
    "expect --format=json ",
    "send \\x15",
    "send exit 0\\r",
    "wait",
  }, "\n") .. "\n"
  local out, err, status = T.run("cd " .. T.q(tmp) .. " && env -u MEMSCRIPT_PATH -u MEMSCRIPT_PROC_ROOT " ..
    T.q(ptydrive) .. " -t 20 -- bash --rcfile " .. T.q(rc) .. " --noprofile -i", steps)
  T.eq(status, 0, "ptydrive's status (stderr: " .. err .. ", transcript: " .. out .. ")")
end)

T.done()
