-- The memscript command line: options, the arg table, script lookup, errors and exit statuses.
--
-- Where memscript is meant to behave as the standalone lua does, the same command is also run
-- under lua5.4 and the two outputs compared, with the interpreter's name put in place of lua5.4.

local T = require "testing"

local format = string.format

-- arg[-n] is the interpreter as exec'ed: the binary itself, also when a wrapper (valgrind) runs it
local interpreter = os.getenv("MEMSCRIPT_REAL_BIN") or T.bin
-- The helper program captured by capture.lua (tests/fixtures/helper-capture): process 1848.
local capture = T.fixtures .. "/helper-capture/proc"

-- A scratch directory for scripts and modules, removed at the end.
local tmp, tmp_cleanup <close> = T.tempdir()

local function write(path, text)
  T.write(tmp .. "/" .. path, text)
  return tmp .. "/" .. path
end

local function mkdir(path)
  assert(select(3, T.run("mkdir -p " .. T.q(tmp .. "/" .. path))) == 0)
  return tmp .. "/" .. path
end

-- The environment variables that change what memscript does, cleared for lua5.4 as T.memscript
-- clears them for memscript.
local CLEAN = "env -u MEMSCRIPT_PATH -u MEMSCRIPT_PROC_ROOT "

-- Runs memscript with `args` (already quoted for the shell), in directory `dir` when given, with
-- the variable assignments `env`.
local function memscript(args, stdin, dir, env)
  return T.memscript(nil, args, { stdin = stdin, dir = dir, env = env })
end

local has_lua = select(3, T.run("command -v lua5.4")) == 0

-- memscript and lua5.4 given the same arguments print the same and exit the same.
local function like_lua(args, stdin, dir, env)
  if not has_lua then T.skip("lua5.4 is not installed") end
  local out, err, status = memscript(args, stdin, dir, env)
  local cd = dir and ("cd " .. T.q(dir) .. " && ") or ""
  local lua_out, lua_err, lua_status = T.run(cd .. CLEAN .. (env or "") .. " lua5.4 " .. args, stdin)
  assert(lua_err == "", "lua5.4 wrote to stderr: " .. lua_err)
  lua_out = lua_out:gsub("lua5%.4", (interpreter:gsub("%%", "%%%%")))
  T.eq(out, lua_out, "stdout compared with lua5.4 (stderr: " .. err .. ")")
  T.eq(status, lua_status, "exit status compared with lua5.4")
  return out
end

-- Prints the whole arg table, from its lowest index, and the chunk's varargs.
local show_args = write("show_args.lua", [[
local lowest = 0
while arg[lowest - 1] ~= nil do lowest = lowest - 1 end
for i = lowest, #arg do print(i, arg[i]) end
print("...", select("#", ...), ...)
]])

-- Options ---------------------------------------------------------------------------------------

T.test("-v prints the version from CMakeLists.txt and exits 0", function()
  local version = T.read(T.source .. "/CMakeLists.txt"):match("project%(memscript VERSION ([%d.]+)")
  local out, err, status = memscript("-v")
  T.eq(status, 0, "exit status")
  T.eq(err, "", "stderr")
  T.ok(out:match("^[^\n]*\n$"), "one line: " .. T.show(out))
  T.contains(out, "memscript", "version line")
  T.contains(out, version, "version line")
end)

T.test("-v then -e: the version line, then the code runs, as in lua", function()
  local out, _, status = memscript("-v -e 'print(6 * 7)'")
  T.eq(status, 0, "exit status")
  T.eq(out:match("\n(.*)$"), "42\n", "after the version line")
end)

T.test("-e runs code", function()
  local out, err, status = memscript("-e 'print(1 + 1, math.type(2^53), _VERSION)'")
  T.eq({ out, err, status }, { "2\tfloat\tLua 5.4\n", "", 0 }, "stdout, stderr, status")
end)

T.test("several -e run in the order given", function()
  local out = like_lua("-e 'x = 1' -e 'x = x * 10' -e 'x = x + 2' -e 'print(x)'")
  T.eq(out, "12\n", "stdout")
end)

T.test("-l MOD requires the module into global MOD before the script", function()
  local dir = mkdir("modules")
  write("modules/greet.lua", 'io.write("greet loaded\\n")\nreturn { hello = "hi" }\n')
  local script = write("uses_greet.lua", 'print("script sees", greet.hello)\n')
  local env = "LUA_PATH_5_4=" .. T.q(dir .. "/?.lua")
  local out = like_lua("-l greet " .. T.q(script), nil, nil, env)
  T.eq(out, "greet loaded\nscript sees\thi\n", "stdout")
  out = like_lua("-e 'print(\"first\")' -l greet -e 'print(greet.hello)'", nil, nil, env)
  T.eq(out, "first\ngreet loaded\nhi\n", "-e and -l interleaved")
end)

T.test("-l with a module that cannot be found fails with UNKNOWN", function()
  local _, err, status = memscript("-l no_such_module_here -e 'print(1)'", nil, nil,
    "LUA_PATH_5_4=" .. T.q(tmp .. "/?.lua"))
  T.eq(status, 3, "exit status")
  T.contains(err, "no_such_module_here", "stderr")
end)

T.test("an unknown option prints usage on stderr and exits UNKNOWN", function()
  local out, err, status = memscript("-z")
  T.eq(status, 3, "exit status")
  T.eq(out, "", "stdout")
  T.contains(err, "-z", "stderr")
  T.contains(err:lower(), "usage", "stderr")
end)

T.test("-e without its argument prints usage and exits UNKNOWN", function()
  local out, err, status = memscript("-e")
  T.eq(status, 3, "exit status")
  T.eq(out, "", "stdout")
  T.contains(err:lower(), "usage", "stderr")
end)

-- The arg table -------------------------------------------------------------------------------

T.test("arg: arg[0] the script, arg[1..n] its arguments, negative indices the interpreter", function()
  local out = like_lua("-e 'x = 1' " .. T.q(show_args) .. " one 'two words' ''")
  T.eq(out, table.concat({
    "-3\t" .. interpreter, "-2\t-e", "-1\tx = 1", "0\t" .. show_args,
    "1\tone", "2\ttwo words", "3\t", "...\t3\tone\ttwo words\t", "" }, "\n"), "arg table")
end)

T.test("arg: a script with no arguments", function()
  local out = like_lua(T.q(show_args))
  T.eq(out, "-1\t" .. interpreter .. "\n0\t" .. show_args .. "\n...\t0\n", "arg table")
end)

T.test("arg: --proc-root and its value are interpreter arguments", function()
  local out = memscript("--proc-root " .. T.q(capture) .. " " .. T.q(show_args) .. " a")
  T.eq(out, table.concat({ "-3\t" .. interpreter, "-2\t--proc-root", "-1\t" .. capture,
    "0\t" .. show_args, "1\ta", "...\t1\ta", "" }, "\n"), "arg table")
end)

T.test("arg with -e and no script: arg[0] is the interpreter, as in lua", function()
  like_lua("-e 'print(arg[0] ~= nil, #arg, arg[1], arg[2])'")
end)

T.test("-- ends the options: a script named -v.lua runs", function()
  local dir = mkdir("dashes")
  write("dashes/-v.lua", 'print("ran -v.lua with", ...)\n')
  local out = like_lua("-- -v.lua -e", nil, dir)
  T.eq(out, "ran -v.lua with\t-e\n", "stdout")
end)

T.test("- reads the script from stdin; its arguments follow", function()
  local out = like_lua("- p q", 'print(arg[0], ...)\nprint(#arg)\n')
  T.eq(out, "-\tp\tq\n2\n", "stdout")
end)

T.test("no script and no -e with stdin not a terminal: stdin is run, as in lua", function()
  local out = like_lua("", 'print("from stdin", #arg)\n')
  T.eq(out, "from stdin\t0\n", "stdout")
end)

T.test("a script starting with #! runs", function()
  local script = write("shebang.lua", '#!/usr/bin/env memscript\nprint("past the first line")\n')
  local out, err, status = memscript(T.q(script))
  T.eq({ out, err, status }, { "past the first line\n", "", 0 }, "stdout, stderr, status")
end)

-- Exit statuses -----------------------------------------------------------------------------------

T.test("os.exit works as in lua", function()
  for _, case in ipairs({ { "os.exit(2)", 2 }, { "os.exit(1)", 1 }, { "os.exit(0)", 0 },
                          { "os.exit(true)", 0 }, { "os.exit(false)", 1 } }) do
    local out, _, status = memscript("-e " .. T.q(case[1]) .. " -e 'print(\"not reached\")'")
    T.eq({ out, status }, { "", case[2] }, case[1])
  end
  like_lua("-e 'io.write(\"buffered\") os.exit(2, true)'")
end)

T.test("a script that ends normally exits 0", function()
  local out, err, status = memscript(T.q(show_args))
  T.eq({ err, status }, { "", 0 }, "stderr, status")
end)

-- Errors --------------------------------------------------------------------------------------------

T.test("a script error: memscript: FILE:LINE: message and a traceback, exit 3", function()
  local script = write("fails.lua", 'local n = 1\nerror("boom " .. n)\n')
  local out, err, status = memscript(T.q(script))
  T.eq(status, 3, "exit status")
  T.eq(out, "", "stdout")
  T.eq(err:match("^[^\n]*"), "memscript: " .. script .. ":2: boom 1", "first line")
  T.contains(err, "stack traceback:", "stderr")
  T.contains(err, script .. ":2:", "traceback")
end)

T.test("a runtime error names the file and line, exit 3", function()
  local script = write("indexes_nil.lua", 'local t\n\nt.x = 1\n')
  local _, err, status = memscript(T.q(script))
  T.eq(status, 3, "exit status")
  T.eq(err:match("^[^\n]*"), "memscript: " .. script .. ":3: attempt to index a nil value (local 't')",
    "first line")
end)

T.test("an error in -e code, exit 3", function()
  local _, err, status = memscript("-e 'error(\"from -e\")'")
  T.eq(status, 3, "exit status")
  T.ok(err:match("^memscript: [^\n]*:1: from %-e\n"), "first line: " .. T.show(err))
end)

T.test("a syntax error names the file and line, exit 3", function()
  local script = write("syntax.lua", 'local x = 1\nlocal y = = 2\n')
  local out, err, status = memscript(T.q(script))
  T.eq(status, 3, "exit status")
  T.eq(out, "", "stdout")
  T.ok(err:find("^memscript: "), "stderr starts with memscript: " .. T.show(err))
  T.contains(err, script .. ":2:", "stderr")
  T.contains(err, "near '='", "stderr")
end)

T.test("error(table) without __tostring: a message saying so, exit 3", function()
  local _, err, status = memscript("-e 'error({ code = 7 })'")
  T.eq(status, 3, "exit status")
  T.eq(err:match("^[^\n]*"), "memscript: (error object is a table value)", "first line")
end)

T.test("error(table) with __tostring uses it, exit 3", function()
  local _, err, status = memscript(
    "-e 'error(setmetatable({}, { __tostring = function() return \"custom failure\" end }))'")
  T.eq(status, 3, "exit status")
  T.eq(err:match("^[^\n]*"), "memscript: custom failure", "first line")
end)

T.test("error(nil): a message saying so, exit 3", function()
  local _, err, status = memscript("-e 'error(nil)'")
  T.eq(status, 3, "exit status")
  T.eq(err:match("^[^\n]*"), "memscript: (error object is a nil value)", "first line")
end)

T.test("a missing script file: a message naming it, exit 3", function()
  local missing = tmp .. "/no_such_script.lua"
  local out, err, status = memscript(T.q(missing))
  T.eq(status, 3, "exit status")
  T.eq(out, "", "stdout")
  T.ok(err:find("^memscript: "), "stderr starts with memscript: " .. T.show(err))
  T.contains(err, missing, "stderr")
end)

T.test("a bare script name found nowhere: a message naming it, exit 3", function()
  local _, err, status = memscript("no_such_memscript_script.lua", nil, mkdir("empty"))
  T.eq(status, 3, "exit status")
  T.contains(err, "no_such_memscript_script.lua", "stderr")
end)

-- Bare-name lookup: cwd, then MEMSCRIPT_PATH, then the bundled scripts -------------------------

local cwd_dir, a_dir, b_dir = mkdir("lookup/cwd"), mkdir("lookup/a"), mkdir("lookup/b")
local elsewhere = mkdir("lookup/elsewhere")
write("lookup/cwd/probe.lua", 'print("cwd")\n')
write("lookup/a/probe.lua", 'print("a")\n')
write("lookup/b/probe.lua", 'print("b")\n')
write("lookup/b/only_b.lua", 'print("only in b", ...)\n')
write("lookup/cwd/report.lua", 'print("report.lua in cwd")\n')
write("lookup/a/report.lua", 'print("report.lua in a")\n')
local search = "MEMSCRIPT_PATH=" .. T.q(a_dir .. ":" .. b_dir)

T.test("lookup: a bare name in the current directory comes first", function()
  T.eq(memscript("probe.lua", nil, cwd_dir, search), "cwd\n", "stdout")
end)

T.test("lookup: then each MEMSCRIPT_PATH directory in order", function()
  T.eq(memscript("probe.lua", nil, elsewhere, search), "a\n", "first directory")
  T.eq(memscript("only_b.lua x", nil, elsewhere, search), "only in b\tx\n", "second directory")
end)

T.test("lookup: the current directory and MEMSCRIPT_PATH come before the bundled scripts", function()
  T.eq(memscript("report.lua", nil, cwd_dir, search), "report.lua in cwd\n", "cwd")
  T.eq(memscript("report.lua", nil, elsewhere, search), "report.lua in a\n", "MEMSCRIPT_PATH")
end)

T.test("lookup: a bare name runs only a file of the caller's or root's that no one else may write", function()
  if T.run("id -u") ~= "0\n" then T.skip("needs root to leave a file owned by another user") end
  local shared, cleanup <close> = T.tempdir()
  T.sh("chmod 1777 " .. T.q(shared))
  T.write(shared .. "/report.lua", 'io.open(' .. string.format("%q", shared .. "/ran") .. ', "w"):close()\n')
  T.sh("chown nobody " .. T.q(shared .. "/report.lua"))
  local out, err, status = memscript("report.lua --help", nil, shared)
  T.eq({ out, status }, { "", 3 }, "another user's report.lua in /tmp: nothing run, status 3")
  T.eq(err, "memscript: report.lua: not run: a script found by its bare name runs only when it is a regular " ..
    "file of yours or root's that no one else may write (this one: a regular file, uid 65534, mode 644); " ..
    "give a path (./report.lua) to run it anyway\n", "stderr")
  T.eq(T.read_if(shared .. "/ran"), nil, "the planted script did not run")
  T.write(shared .. "/mine.lua", "print('mine', ...)\n")
  T.sh("chmod 0666 " .. T.q(shared .. "/mine.lua"))
  T.eq(select(3, memscript("mine.lua", nil, shared)), 3, "one of root's that others may write: refused")
  T.sh("chmod 0644 " .. T.q(shared .. "/mine.lua"))
  T.eq(memscript("mine.lua a", nil, shared), "mine\ta\n", "root's own, writable by root alone: run")
  T.eq(memscript("./report.lua", nil, shared), "", "a path given: run as asked")
  T.ok(T.read_if(shared .. "/ran") ~= nil, "the path's script ran")
end)

T.test("lookup: the bundled report.lua is found from another directory", function()
  local out, err, status = memscript("report.lua --help", nil, elsewhere)
  T.eq(status, 0, "exit status (stderr: " .. err .. ")")
  T.ok(#out + #err > 0, "report.lua --help printed something")
  T.contains((out .. err):lower(), "usage", "help text")
end)

T.test("--list: every bundled script with its summary and usage line, exit 0", function()
  local out, err, status = memscript("--list", nil, elsewhere)
  T.eq({ err, status }, { "", 0 }, "stderr and status")
  T.contains(out, "report.lua     pmap-style memory map of a process\n"
    .. "               usage: memscript report.lua [-x | -d | -X | -XX] [-p] [-q] PID...\n", "report.lua")
end)

T.test("--complete SCRIPT: the script's options and operands, one record per line", function()
  local out, err, status = memscript("--complete status.lua", nil, elsewhere)
  T.eq({ out, err, status }, { "script status.lua\noption -h --help none\noperand PID pid one self\n", "", 0 },
    "stdout, stderr, status")
  out, err, status = memscript("--complete")
  T.eq({ out, status }, { "", 3 }, "no script: stdout and status")
  T.contains(err, "'--complete' needs a script", "no script: stderr")
end)

-- The proc library from the command line ------------------------------------------------------

T.test("proc.smaps of a pid that cannot exist returns nil, the path and ENOENT", function()
  -- 4194304 is PID_MAX_LIMIT on 64-bit Linux; pids are always below it.
  local out, err, status = memscript("-e 'print(proc.smaps(4194304))'")
  T.eq({ out, err, status }, { "nil\t/proc/4194304/smaps: No such file or directory\t2\n", "", 0 },
    "stdout, stderr, status")
end)

T.test("a bad pid argument raises an error", function()
  for _, bad in ipairs({ "{}", "'abc'", "-1", "1.5", "'12abc'", "true", "nil", "''", "'self\\0junk'", "'selfish'" }) do
    local code = "local ok, e = pcall(proc.smaps, " .. bad .. ") print(ok, e)"
    local out, _, status = memscript("-e " .. T.q(code))
    T.eq(status, 0, "status for " .. bad)
    T.ok(out:find("^false\t") and out:find("bad argument", 1, true),
      "proc.smaps(" .. bad .. ") raises a bad argument error, got " .. T.show(out))
  end
end)

T.test("-l G=MOD sets global G in every watch run, through the global require", function()
  local out, err, status = memscript("--interval 0.01 --count 2 -l U=memscript.units " ..
    "-e 'print(U == require \"memscript.units\", rawget(_G, \"memscript.units\"))'")
  T.eq({ out, err, status }, { "true\tnil\ntrue\tnil\n", "", 0 }, "stdout, stderr, status")
end)

T.test("proc.pids lists the names that are pids: no 0, no leading zeros", function()
  local tmp, cleanup <close> = T.tempdir()
  T.sh("mkdir " .. T.q(tmp .. "/0") .. " " .. T.q(tmp .. "/007") .. " " .. T.q(tmp .. "/7") .. " " ..
    T.q(tmp .. "/12") .. " " .. T.q(tmp .. "/self"))
  local out, err, status = memscript("--proc-root " .. T.q(tmp) .. " -e 'print(table.concat(proc.pids(), \",\"))'")
  T.eq({ out, err, status }, { "7,12\n", "", 0 }, "stdout, stderr, status")
end)

T.test("--proc-root reads another tree", function()
  local out, err, status = memscript("--proc-root " .. T.q(capture) ..
    " -e 'print(#proc.smaps(1848), proc.comm(1848))'")
  T.eq({ out, err, status }, { "35\tmemhelper\n", "", 0 }, "stdout, stderr, status")
end)

T.test("MEMSCRIPT_PROC_ROOT works like --proc-root", function()
  local env = "MEMSCRIPT_PROC_ROOT=" .. T.q(capture)
  local out, err, status = memscript(
    "-e 'print(#proc.smaps(1848), proc.comm(1848))' -e 'print(proc.status(1))'", nil, nil, env)
  T.eq({ out, err, status }, {
    "35\tmemhelper\nnil\t" .. capture .. "/1/status: No such file or directory\t2\n", "", 0 },
    "stdout, stderr, status")
end)

T.test("require \"memscript\" returns the proc table", function()
  local out = memscript("-e 'print(require(\"memscript\") == proc, type(proc.smaps))'")
  T.eq(out, "true\tfunction\n", "stdout")
end)

T.test("cmake --install puts the binary, the bundled scripts and the man page where they are found", function()
  local prefix = tmp .. "/prefix"
  local _, err, status = T.run("cmake --install " .. T.q(T.build) .. " --prefix " .. T.q(prefix))
  T.eq(status, 0, "cmake --install status (" .. err .. ")")
  T.ok(T.run("test -f " .. T.q(prefix .. "/share/man/man1/memscript.1") .. " && echo yes") == "yes\n", "man page installed")
  -- from another directory, the installed binary finds its installed scripts, not the source tree's
  local marker = prefix .. "/share/memscript/scripts/installed-only.lua"
  T.write(marker, "-- installed-only.lua: present only in the installed tree\nprint('installed')\n")
  local installed = { dir = "/", bin = prefix .. "/bin/memscript" }
  local out, _, st = T.memscript(nil, "--list", installed)
  T.eq(st, 0, "--list status")
  T.contains(out, "installed-only.lua", "--list of the installed scripts")
  T.contains(out, "report.lua", "--list of the installed scripts")
  out = T.memscript(nil, "installed-only.lua", installed)
  T.eq(out, "installed\n", "a bundled script of the installed tree runs by its bare name")
  out, _, st = T.memscript(nil, "report.lua --help", installed)
  T.eq(st, 0, "installed report.lua --help status")
  T.contains(out, "usage: memscript report.lua", "installed report.lua --help")
end)

T.done()
