-- -o FILE run as root in directories other users can write: links, modes, refusals, fatal signals.

local T = require "testing"

local function memscript(args)
  return T.memscript(nil, args)
end

-- The checks below plant files as another user, which takes root and the user nobody.
local function need_root_and_nobody()
  if T.sh("id -u") ~= "0\n" then T.skip("needs root to act as another user") end
  local _, _, status = T.run("runuser -u nobody -- true")
  if status ~= 0 then T.skip("runuser -u nobody is not available") end
end

-- A scratch directory other users can enter (mktemp makes it 0700).
local function scratch()
  local dir, cleanup = T.tempdir()
  T.sh("chmod 755 " .. T.q(dir))
  return dir, cleanup
end

local function as_nobody(cmd)
  return T.sh("runuser -u nobody -- sh -c " .. T.q(cmd))
end

local function stat(path, format)
  return (T.sh("stat -c " .. T.q(format) .. " " .. T.q(path)):gsub("\n$", ""))
end

-- What a root-owned private file looks like: its content, mode and owner.
local function secret(path)
  T.write(path, "secret\n")
  T.sh("chmod 600 " .. T.q(path))
end

local function state_of(path)
  return { T.read(path), stat(path, "%a %U") }
end

local function listing(dir)
  return T.sh("ls -A " .. T.q(dir))
end

local function refusal(path)
  return "memscript: " .. path .. ": a symbolic link owned by nobody (uid 65534), neither you nor root: " ..
    "-o does not write through another user's link\n"
end

T.test("-o refuses another user's link in a sticky world-writable directory, leaving the file it names", function()
  need_root_and_nobody()
  local dir, cleanup <close> = scratch()
  local shared, private = dir .. "/shared", dir .. "/private.txt"
  T.sh("mkdir -m 1777 " .. T.q(shared))
  secret(private)
  as_nobody("ln -s " .. T.q(private) .. " " .. T.q(shared .. "/metrics.prom"))
  local out, err, status = memscript("-o " .. T.q(shared .. "/metrics.prom") .. " -e 'print(\"metrics\")'")
  T.eq({ out, err, status }, { "", refusal(shared .. "/metrics.prom"), 3 }, "stdout, stderr, status")
  T.eq(state_of(private), { "secret\n", "600 root" }, "the file the link names")
  T.eq(listing(shared), "metrics.prom\n", "the link alone, no temporary file")
end)

T.test("-o refuses another user's link in a directory that user owns", function()
  need_root_and_nobody()
  local dir, cleanup <close> = scratch()
  local owned, private = dir .. "/textfile", dir .. "/private.txt"
  T.sh("mkdir " .. T.q(owned) .. " && chown nobody " .. T.q(owned))
  secret(private)
  as_nobody("ln -s " .. T.q(private) .. " " .. T.q(owned .. "/memscript.prom"))
  local out, err, status = memscript("-o " .. T.q(owned .. "/memscript.prom") .. " -e 'print(\"metrics\")'")
  T.eq({ out, err, status }, { "", refusal(owned .. "/memscript.prom"), 3 }, "stdout, stderr, status")
  T.eq(state_of(private), { "secret\n", "600 root" }, "the file the link names")
end)

T.test("-o refuses another user's link to a directory on the way to the file", function()
  need_root_and_nobody()
  local dir, cleanup <close> = scratch()
  local owned, private_dir = dir .. "/textfile", dir .. "/private"
  T.sh("mkdir " .. T.q(owned) .. " && chown nobody " .. T.q(owned) .. " && mkdir -m 700 " .. T.q(private_dir))
  secret(private_dir .. "/key")
  as_nobody("ln -s " .. T.q(private_dir) .. " " .. T.q(owned .. "/sub"))
  local path = owned .. "/sub/key"
  local out, err, status = memscript("-o " .. T.q(path) .. " -e 'print(\"metrics\")'")
  T.eq({ out, err, status }, { "", "memscript: " .. path .. ": 'sub' on the way is a symbolic link owned by nobody " ..
    "(uid 65534), neither you nor root: -o does not write through another user's link\n", 3 }, "stdout, stderr, status")
  T.eq(state_of(private_dir .. "/key"), { "secret\n", "600 root" }, "the file behind the link")
  T.eq(listing(private_dir), "key\n", "nothing created beside it")
end)

T.test("-o through the caller's own link replaces the file it names, beside itself, and keeps the link", function()
  need_root_and_nobody()
  local dir, cleanup <close> = scratch()
  local shared, target = dir .. "/shared", dir .. "/real.prom"
  T.sh("mkdir -m 1777 " .. T.q(shared))
  T.write(target, "old\n")
  T.sh("chmod 640 " .. T.q(target) .. " && ln -s " .. T.q(target) .. " " .. T.q(shared .. "/link.prom"))
  local out, err, status = memscript("-o " .. T.q(shared .. "/link.prom") .. " -e 'print(\"new\")'")
  T.eq({ out, err, status }, { "", "", 0 }, "stdout, stderr, status")
  T.eq({ T.read(target), stat(target, "%a %U"), stat(shared .. "/link.prom", "%F") },
    { "new\n", "640 root", "symbolic link" }, "the target replaced with its mode, the link kept")
  T.eq(listing(dir), "real.prom\nshared\n", "no temporary file beside the target")
end)

T.test("-o over another user's file (6777) makes the caller's file: no s-bits, no write or execute for others", function()
  need_root_and_nobody()
  local dir, cleanup <close> = scratch()
  local shared = dir .. "/shared"
  T.sh("mkdir -m 1777 " .. T.q(shared))
  local path = shared .. "/planted"
  as_nobody("echo planted > " .. T.q(path) .. " && chmod 6777 " .. T.q(path))
  T.eq(stat(path, "%a %U"), "6777 nobody", "planted as")
  local out, err, status = memscript("-o " .. T.q(path) .. " -e 'print(\"data\")'")
  T.eq({ out, err, status }, { "", "", 0 }, "stdout, stderr, status")
  T.eq({ T.read(path), stat(path, "%a %U %G") }, { "data\n", "644 root root" },
    "the new file: the caller's, 0600 and the old read bits")
  as_nobody("echo again > " .. T.q(path .. ".2") .. " && chmod 0622 " .. T.q(path .. ".2"))
  memscript("-o " .. T.q(path .. ".2") .. " -e 'print(\"data\")'")
  T.eq(stat(path .. ".2", "%a %U"), "600 root", "no read bits to keep: owner only")
end)

T.test("-o over the caller's own file keeps its permission bits but never s-bits, sticky or execute", function()
  local dir, cleanup <close> = T.tempdir()
  local path = dir .. "/mine"
  T.write(path, "old\n")
  T.sh("chmod 7775 " .. T.q(path))
  local _, err, status = memscript("-o " .. T.q(path) .. " -e 'print(\"new\")'")
  T.eq({ err, status, T.read(path), stat(path, "%a") }, { "", 0, "new\n", "664" }, "stderr, status, file, mode")
end)

T.test("-o refuses a pipe, a device or a directory reached through the caller's own link", function()
  local dir, cleanup <close> = T.tempdir()
  T.sh("cd " .. T.q(dir) .. " && mkfifo fifo && mkdir d && ln -s fifo to-fifo && ln -s /dev/null to-null && ln -s d to-dir")
  for _, name in ipairs({ "to-fifo", "to-null", "to-dir", "d/", "d/." }) do
    local path = dir .. "/" .. name
    local out, err, status = memscript("-o " .. T.q(path) .. " -e 'print(1)'")
    T.eq({ out, err, status }, { "", "memscript: " .. path ..
      ": not a regular file (-o replaces a file with a new one, renamed over it)\n", 3 }, name)
  end
  T.eq(T.sh("stat -c %F " .. T.q(dir .. "/fifo") .. " /dev/null " .. T.q(dir .. "/d")),
    "fifo\ncharacter special file\ndirectory\n", "all still what they were")
  T.eq(listing(dir), "d\nfifo\nto-dir\nto-fifo\nto-null\n", "nothing created")
end)

T.test("-o follows a chain of the caller's links, and refuses a loop of them", function()
  local dir, cleanup <close> = T.tempdir()
  T.sh("cd " .. T.q(dir) .. " && echo old > real && ln -s real one && ln -s one two && ln -s loop-b loop-a && ln -s loop-a loop-b")
  local _, err, status = memscript("-o " .. T.q(dir .. "/two") .. " -e 'print(\"new\")'")
  T.eq({ err, status, T.read(dir .. "/real") }, { "", 0, "new\n" }, "through two links")
  local _, loop_err, loop_status = memscript("-o " .. T.q(dir .. "/loop-a") .. " -e 'print(1)'")
  T.eq({ loop_err, loop_status }, { "memscript: " .. dir .. "/loop-a: Too many levels of symbolic links\n", 3 }, "a loop")
end)

-- Starts memscript writing -o's file and waiting, sends it sig once its temporary file exists,
-- and returns what was in the directory then, its exit status and the directory after.
local function signal_during_output(sig)
  local dir, cleanup <close> = T.tempdir()
  local path = dir .. "/metrics.prom"
  T.write(path, "old\n")
  local code = 'print("partial") io.stdout:flush() require("memscript.sys").sleep(30)'
  local script = T.memscript_command() .. " -o " .. T.q(path) .. " -e " .. T.q(code) .. " & pid=$!; " ..
    "i=0; while [ $i -lt 100 ] && ! ls " .. T.q(dir) .. " | grep -q tmp; do sleep 0.05; i=$((i+1)); done; " ..
    "ls " .. T.q(dir) .. "; kill -" .. sig .. " $pid; wait $pid; echo status $?"
  local out = T.run(script)
  return out, listing(dir), T.read(path)
end

for _, case in ipairs({ { "TERM", 143 }, { "HUP", 129 } }) do
  T.test("SIG" .. case[1] .. " while -o writes removes the temporary file, then ends by the signal", function()
    local during, after, content = signal_during_output(case[1])
    T.ok(during:find("^metrics%.prom\nmetrics%.prom%.tmp%w+\n"), "the temporary file existed: " .. T.show(during))
    T.contains(during, "status " .. case[2] .. "\n", "ended by the signal")
    T.eq({ after, content }, { "metrics.prom\n", "old\n" }, "directory and file after")
  end)
end

T.test("-o with standard output closed (>&-) writes the file and exits 0", function()
  local dir, cleanup <close> = T.tempdir()
  local _, err, status = T.run(T.memscript_command() .. " -o " .. T.q(dir .. "/out") .. " -e 'print(\"into the file\")' >&-")
  T.eq({ err, status, T.read(dir .. "/out") }, { "", 0, "into the file\n" }, "stderr, status, file")
end)

T.done()
