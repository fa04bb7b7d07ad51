-- proc.stat: /proc/PID/stat by proc(5)'s field names, comm taken up to the last ')'.

local T = require "testing"

-- The helper program captured by capture.lua (tests/fixtures/helper-capture): 1848, its zombie 1850.
local capture = assert(proc.at(T.fixtures .. "/helper-capture/proc"))

-- prometheus/procfs's captures, read in place from ../shared/fixtures (skips when absent).
local function procfs()
  local root = T.shared("procfs/proc")
  return assert(proc.at(root)), root
end

T.test("fields of the captured helper by name", function()
  -- "1848 (memhelper) T 1847 1848 1848 0 -1 4194304 148 0 0 0 0 0 0 0 20 0 1 0 123217 1695744 215 ..."
  local s = assert(capture.stat(1848))
  T.eq({ s.pid, s.comm, s.state, s.ppid, s.pgrp, s.session, s.tpgid, s.minflt, s.priority, s.num_threads,
         s.starttime, s.vsize },
       { 1848, "memhelper", "T", 1847, 1848, 1848, -1, 148, 20, 1, 123217, 1695744 },
       "pid comm state ppid pgrp session tpgid minflt priority num_threads starttime vsize")
  T.eq(s.rss, 215 * capture.page_size(), "rss in bytes (pages times page size)")
  local z = assert(capture.stat(1850))
  T.eq({ z.pid, z.state, z.ppid, z.vsize, z.rss }, { 1850, "Z", 1848, 0, 0 }, "the zombie")
end)

T.test("comm with spaces and parentheses ends at the last ')'", function()
  local tmp, cleanup <close> = T.tempdir()
  T.sh("mkdir " .. T.q(tmp .. "/42"))
  T.write(tmp .. "/42/stat", "42 ((a b ) ( c d) ) R 1 42 42 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 777 1000 10 " ..
    "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n")
  local s = assert(assert(proc.at(tmp)).stat(42))
  T.eq({ s.comm, s.state, s.ppid, s.starttime }, { "(a b ) ( c d) ", "R", 1, 777 }, "comm state ppid starttime")
end)

T.test("procfs 27079 and 584: real comms with spaces and parentheses", function()
  local p, root = procfs()
  T.eq(assert(p.stat(27079)).comm, "pthread_load", "comm of 27079")
  local text = T.read(root .. "/584/stat"):match("^[^\n]*")
  T.eq(text:match("^%d+ %((.*)%) R "), "(a b ) ( c d) ", "the fixture's comm really has parentheses")
end)

T.test("procfs 584: text after the one line the kernel prints is an error naming file and line", function()
  local p, root = procfs()
  local s, err, errno = p.stat(584)
  T.eq({ s, err, errno }, { nil, root .. "/584/stat:2: unexpected text after the first line", 22 }, "result")
end)

T.test("a newline in comm (a process may name itself so) is part of comm", function()
  local tmp, cleanup <close> = T.tempdir()
  local line = "42 (a\nb) S 1 42 42 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 777 1000 10 " ..
    "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
  T.sh("mkdir " .. T.q(tmp .. "/42") .. " " .. T.q(tmp .. "/43"))
  T.write(tmp .. "/42/stat", line)
  T.write(tmp .. "/43/stat", line .. "junk\n")
  local root = assert(proc.at(tmp))
  local s = assert(root.stat(42))
  T.eq({ s.pid, s.comm, s.state, s.starttime }, { 42, "a\nb", "S", 777 }, "pid comm state starttime")
  T.eq({ root.stat(43) }, { nil, tmp .. "/43/stat:3: unexpected text after the first line", 22 }, "junk after it")
end)

T.test("the live process: pid and starttime agree with the kernel's text", function()
  local s = assert(proc.stat("self"))
  local text = T.read("/proc/self/stat")
  local after = text:match("%) (.*)$")
  local fields = {}
  for v in after:gmatch("%S+") do fields[#fields + 1] = v end
  T.eq(s.state, fields[1], "state")
  T.eq(s.starttime, tonumber(fields[20]), "starttime (field 22)")
  T.eq(s.pid, tonumber(text:match("^%d+")), "pid")
end)

T.test("a process that does not exist", function()
  T.eq({ proc.stat(2147483647) }, { nil, "/proc/2147483647/stat: No such file or directory", 2 }, "result")
end)

T.done()
