-- Bad input through a proc root: every malformed file gives an error naming the file and line (or
-- the field reads as absent), never a crash, a hang or a made-up zero.

local T = require "testing"

local format, rep, concat = string.format, string.rep, table.concat

local tmp, cleanup <close> = T.tempdir()

local next_pid = 100

-- A new pid directory holding files (name -> bytes); returns the pid.
local function tree(files)
  next_pid = next_pid + 1
  local dir = tmp .. "/" .. next_pid
  T.run("mkdir -p " .. T.q(dir))
  for name, bytes in pairs(files) do
    T.write(dir .. "/" .. name, bytes)
  end
  return next_pid
end

local root = proc.at(tmp)

local HEADER = "00400000-00401000 r-xp 00000000 fd:00 12                                 /bin/x\n"

local function path(pid, name) return format("%s/%d/%s", tmp, pid, name) end

T.test("a NUL byte in status: error naming file and line", function()
  local pid = tree({ status = "Name:\tx\nVmRSS:\t 4\0 kB\n" })
  T.eq({ root.status(pid) }, { nil, path(pid, "status") .. ":2: NUL byte in the value", 22 }, "result")
end)

T.test("a carriage return is part of the value: a process may end its name with one; \"4\\r\" is no number", function()
  local pid = tree({ status = "Name:\tx\r\nVmRSS:\t 4 kB\nThreads:\t1\r\nFDSize:\t64\n" })
  local s = assert(root.status(pid))
  T.eq({ s.Name, s.VmRSS, s.Threads, s.FDSize }, { "x\r", 4096, "1\r", 64 }, "Name, VmRSS, Threads, FDSize")
end)

T.test("meminfo, smaps_rollup and status's sizes: a word where the kernel prints a number is an error naming the line", function()
  local pid = tree({ smaps_rollup = HEADER .. "Rss:  8 kB\nPss:  lots kB\n",
    status = "Name:\tVmRSS: 4 kB\nVmRSS:\tlots\n" })
  T.eq({ root.smaps_rollup(pid) }, { nil, path(pid, "smaps_rollup") .. ":3: 'lots kB' where a number is expected", 22 },
       "smaps_rollup")
  T.eq({ root.status(pid) }, { nil, path(pid, "status") .. ":2: 'lots' where a size in kB is expected", 22 },
       "status: VmRSS, after a Name that spells a size (a process's own text, kept)")
  pid = tree({ status = "Name:\tVmRSS: lots\nRssAnon:\t4 kB\r\n" })
  T.eq({ root.status(pid) }, { nil, path(pid, "status") .. ":2: '4 kB\r' where a size in kB is expected", 22 },
       "status: a size with a carriage return")
  pid = tree({ status = "Name:\tx\nVmRSS:\t4 kB\nHugetlbPages:\t0 kB\nSpeculation_Store_Bypass:\tthread vulnerable\n" })
  T.eq(root.status(pid), { Name = "x", VmRSS = 4096, HugetlbPages = 0,
       Speculation_Store_Bypass = "thread vulnerable" }, "other keys keep their text")
  local dir = tmp .. "/meminfo-word"
  T.sh("mkdir -p " .. T.q(dir .. "/proc"))
  T.write(dir .. "/proc/meminfo", "MemTotal:       16384 kB\nMemFree:        lots kB\nHugePages_Total:   many\n")
  T.eq({ proc.at(dir .. "/proc").meminfo() }, { nil, dir .. "/proc/meminfo:2: 'lots kB' where a number is expected", 22 },
       "meminfo")
  -- the scripts that compute with them name the file instead of stopping with a traceback
  local out, err, status = T.memscript(dir, "system.lua")
  T.eq({ out, err, status }, { "", "memscript: system.lua: " .. dir .. "/proc/meminfo:2: 'lots kB' where a number is expected\n", 3 },
       "system.lua")
end)

T.test("smaps: a word where the kernel prints a size is an error naming the line; VmFlags and Name keep their text", function()
  local pid = tree({ smaps = HEADER .. "Size:  4 kB\nRss:   lots kB\n" })
  T.eq({ root.smaps(pid) }, { nil, path(pid, "smaps") .. ":3: 'lots kB' where a size in kB is expected", 22 }, "Rss")
  pid = tree({ smaps = HEADER .. "Size:  4 kB\nSwapPss:   x\n" })
  T.eq({ root.smaps(pid) }, { nil, path(pid, "smaps") .. ":3: 'x' where a size in kB is expected", 22 }, "SwapPss")
  pid = tree({ smaps = HEADER .. "Name:           [anon:dalvik 4 kB]\nSize:  4 kB\nTHPeligible:    0\n"
    .. "VmFlags: rd ex mr mw me\n" })
  local m = assert(root.smaps(pid))[1]
  T.eq({ m.Name, m.Size, m.THPeligible, tostring(m.VmFlags) }, { "[anon:dalvik 4 kB]", 4096, 0, "rd ex mr mw me" },
       "Android's Name, THPeligible and VmFlags as printed")
  -- the pictures and reports that compute with sizes name the file instead of stopping with a traceback
  local dir = tmp .. "/smaps-word"
  T.sh("mkdir -p " .. T.q(dir .. "/proc/42"))
  T.write(dir .. "/proc/42/smaps", HEADER .. "Size:  4 kB\nRss:   lots kB\n")
  T.write(dir .. "/proc/42/maps", HEADER)
  T.write(dir .. "/proc/42/status", "Name:\tx\nTgid:\t42\nPid:\t42\n")
  local out, err, status = T.memscript(dir, "map.lua 42")
  T.eq({ out, err, status }, { "", "memscript: map.lua: " .. dir .. "/proc/42/smaps:3: 'lots kB' where a size in kB is "
       .. "expected\n", 3 }, "map.lua")
end)

T.test("CRLF line ends in maps: error naming the column", function()
  local pid = tree({ maps = "00400000-00401000 r-xp 00000000 fd:00 0\r\n" })
  T.eq({ root.maps(pid) }, { nil, path(pid, "maps") .. ":1: inode: decimal number expected", 22 }, "result")
end)

T.test("control characters a process can put in its name are kept", function()
  local pid = tree({ status = "Name:\tev\1il\tname\nVmRSS:\t 4 kB\n" })
  local st = assert(root.status(pid))
  T.eq({ st.Name, st.VmRSS }, { "ev\1il\tname", 4096 }, "Name and VmRSS")
end)

T.test("binary junk as status: error at line 1", function()
  local junk = {}
  for i = 1, 4096 do junk[i] = string.char((i * 131 + 7) % 256) end
  local pid = tree({ status = "\255\254" .. concat(junk) })
  local r, err, errno = root.status(pid)
  T.eq({ r, errno }, { nil, 22 }, "nil and EINVAL")
  T.ok(err:find("^" .. path(pid, "status"):gsub("%p", "%%%0") .. ":%d+: "), err)
end)

T.test("a line of 2 MiB (a long path) reads whole", function()
  local long = "/" .. rep("d", 2 * 1024 * 1024)
  local pid = tree({ maps = "00400000-00401000 r-xp 00000000 fd:00 12 " .. long .. "\n" })
  local maps = assert(root.maps(pid))
  T.eq({ #maps, #maps[1].path, maps[1].path == long }, { 1, #long, true }, "one mapping with the whole path")
end)

T.test("numbers past 64 bits become floats, never wrapped", function()
  local pid = tree({ status = "VmRSS:\t 99999999999999999999999 kB\nThreads:\t 123456789012345678901234567890\n",
    maps = "ffffffffffffffffff-fffffffffffffffffff r-xp 00000000 fd:00 12\n" })
  local st = assert(root.status(pid))
  T.eq({ math.type(st.VmRSS), st.VmRSS, math.type(st.Threads) },
       { "float", 99999999999999999999999.0 * 1024, "float" }, "floats")
  T.eq({ root.maps(pid) }, { nil, path(pid, "maps") .. ":1: address: start is not a 64-bit hex number", 22 },
    "an address past 64 bits")
end)

T.test("addresses that are not hex, and an end below the start", function()
  local pid = tree({ maps = HEADER .. "0040zz00-00401000 r-xp 00000000 fd:00 12 /bin/x\n" })
  T.eq({ root.maps(pid) }, { nil, path(pid, "maps") .. ":2: mapping header expected (start-end perms offset dev " ..
    "inode path)", 22 }, "not hex")
  pid = tree({ maps = "00402000-00401000 r-xp 00000000 fd:00 12 /bin/x\n" })
  T.eq({ root.maps(pid) }, { nil, path(pid, "maps") .. ":1: address: end is below start", 22 }, "end below start")
end)

T.test("empty files: no fields (absent, not zero), or an error where a value is required", function()
  local pid = tree({ status = "", maps = "", smaps = "", smaps_rollup = "", statm = "", cmdline = "", stat = "" })
  T.eq(root.status(pid), {}, "status")
  T.eq(#root.maps(pid), 0, "maps")
  T.eq(#root.smaps(pid), 0, "smaps")
  T.eq(root.smaps_rollup(pid), {}, "smaps_rollup")
  T.eq(root.cmdline(pid), {}, "cmdline")
  T.eq({ root.statm(pid) }, { nil, path(pid, "statm") .. ":1: size: decimal number of pages expected", 22 }, "statm")
  T.eq({ root.stat(pid) }, { nil, path(pid, "stat") .. ":1: comm in parentheses expected after the pid", 22 }, "stat")
end)

T.test("a truncated smaps: a record cut at a line has its missing fields nil, not 0", function()
  local pid = tree({ smaps = HEADER .. "Size:                  4 kB\nRss:                   4 kB\n" ..
    "00401000-00402000 rw-p 00000000 00:00 0\nSize:                  4 kB\n" })
  local maps = assert(root.smaps(pid))
  T.eq({ #maps, maps[1].Rss, maps[2].Size, maps[2].Rss }, { 2, 4096, 4096, nil }, "values")
end)

T.test("a truncated smaps: a line cut in its key is an error naming file and line", function()
  local pid = tree({ smaps = HEADER .. "Size:                  4 kB\nR" })
  T.eq({ root.smaps(pid) }, { nil, path(pid, "smaps") .. ":3: no ':' after the key", 22 }, "result")
end)

T.test("a key twice in one smaps record or in status: error naming file and line", function()
  local pid = tree({ smaps = HEADER .. "Rss:  4 kB\nPss:  4 kB\nRss:  8 kB\n", status = "A:\t1\nB:\t2\nA:\t3\n" })
  T.eq({ root.smaps(pid) }, { nil, path(pid, "smaps") .. ":4: duplicate key 'Rss'", 22 }, "smaps")
  T.eq({ root.status(pid) }, { nil, path(pid, "status") .. ":3: duplicate key 'A'", 22 }, "status")
end)

T.test("hundreds of distinct keys, past the key cache, all read", function()
  local lines = { HEADER }
  for i = 1, 300 do lines[#lines + 1] = format("Key%03d:  %d kB\n", i, i) end
  local pid = tree({ smaps = concat(lines) })
  local m = assert(root.smaps(pid))[1]
  T.eq({ m.Key001, m.Key256, m.Key257, m.Key300 }, { 1024, 256 * 1024, 257 * 1024, 300 * 1024 }, "keys")
end)

T.test("a field line that is not Key: value", function()
  local pid = tree({ smaps = HEADER .. "Rss 4 kB\n" })
  T.eq({ root.smaps(pid) }, { nil, path(pid, "smaps") .. ":2: no ':' after the key", 22 }, "result")
end)

T.test("a bundled script on a malformed tree: exit 3 and the reader's message", function()
  local pid = tree({ smaps = HEADER .. "Rss:  4 kB\nRss:  8 kB\n", cmdline = "x\0", comm = "x\n",
    maps = HEADER, status = "Name:\tx\nTgid:\t" .. (next_pid + 1) .. "\n" })
  local out, err, status = T.memscript(tmp, "report.lua " .. pid)
  T.eq({ status, err }, { 3, "memscript: " .. path(pid, "smaps") .. ":3: duplicate key 'Rss'\n" }, "status and stderr")
  T.eq(out, "", "nothing half-printed")
end)

T.test("status keys the kernel prints in hex or as lists stay strings whatever their digits", function()
  local pid = tree({ status = "Name:\tx\nThreads:\t10\nCpus_allowed:\t10\nCpus_allowed_list:\t4\n" ..
    "Mems_allowed:\t1\nMems_allowed_list:\t0\nSigCgt:\t1000000000000000\nCapEff:\t2000000000000000\n" })
  local s = assert(root.status(pid))
  T.eq({ s.Threads, s.Cpus_allowed, s.Cpus_allowed_list, s.Mems_allowed, s.Mems_allowed_list, s.SigCgt, s.CapEff },
       { 10, "10", "4", "1", "0", "1000000000000000", "2000000000000000" }, "values")
  T.eq(math.type(s.Threads), "integer", "Threads is a count")
end)

-- Archives -------------------------------------------------------------------------------------

-- A tar of a one-process tree made by tar(1) in the given format, with files (name -> bytes) beside proc/.
local function archive(format_name, extra)
  local dir, cleanup <close> = T.tempdir()
  T.sh("mkdir -p " .. T.q(dir .. "/cap/proc/42"))
  T.write(dir .. "/cap/proc/42/comm", "x\n")
  T.write(dir .. "/cap/proc/meminfo", "MemTotal:  1 kB\n")
  for name, bytes in pairs(extra or {}) do T.write(dir .. "/cap/" .. name, bytes) end
  local tar = tmp .. "/" .. format_name .. ".tar"
  T.sh(format("tar --format=%s -C %s -cf %s cap", format_name, T.q(dir), T.q(tar)))
  return tar
end

T.test("an archive holding a file name that is not ASCII reads whole, in pax and gnu formats", function()
  for _, format_name in ipairs({ "pax", "gnu" }) do
    local tar = archive(format_name, { ["NOTES-caf\195\169.txt"] = "notes\n" })
    local cap = assert(proc.at(tar))
    T.eq({ cap.pids(), cap.comm(42), cap.meminfo().MemTotal }, { { 42 }, "x", 1024 }, format_name)
  end
end)

T.test("an archive that cannot be read returns the system's errno; one that is not an archive EINVAL", function()
  local tar = archive("gnu")
  T.eq({ proc.at(tmp .. "/none.tar") }, { nil, tmp .. "/none.tar: No such file or directory", 2 }, "missing")
  T.write(tmp .. "/junk.tar", ("not an archive\n"):rep(100))
  local junk = { proc.at(tmp .. "/junk.tar") }
  T.eq({ junk[1], junk[3] }, { nil, 22 }, "not an archive: nil and EINVAL")
  T.ok(junk[2]:find(tmp .. "/junk.tar: ", 1, true) == 1, "the message names the archive: " .. junk[2])
  if T.run("id -u") ~= "0\n" or T.run("command -v setpriv") == "" then
    T.skip("needs root and setpriv to read as another user")
  end
  T.sh("chmod 755 " .. T.q(tmp) .. " && chmod 000 " .. T.q(tar))
  local out, err, status = T.memscript(nil, "-e " .. T.q(format("print(select(3, proc.at(%q)))", tar)),
    { prefix = "setpriv --reuid=65534 --regid=65534 --clear-groups" })
  T.sh("chmod 700 " .. T.q(tmp))
  T.eq({ out, err, status }, { "13\n", "", 0 }, "permission denied: EACCES")
end)

T.test("proc.read of a file larger than --max-memory allows fails cleanly, again and again", function()
  local pid = tree({ big = ("x"):rep(4 << 20) })
  local code = format("for i = 1, 3 do print(pcall(proc.read, %q)) end", pid .. "/big")
  local out, err, status = T.memscript(nil, format("--max-memory 2M --proc-root %s -e %s", T.q(tmp), T.q(code)))
  T.eq({ out, err, status }, { ("false\tnot enough memory\n"):rep(3), "memscript: not enough memory: the run " ..
    "reached its --max-memory limit of 2097152 bytes (the script caught the error; its results may be incomplete)\n", 3 },
    "three refusals, then UNKNOWN")
end)

T.done()
