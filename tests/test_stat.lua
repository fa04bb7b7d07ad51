-- proc.stat: /proc/PID/stat by proc(5)'s field names, comm taken up to the last ')'.

local T = require "testing"

local procfs = proc.at(T.fixtures .. "/procfs/proc")

T.test("fields of fixture 26231 by name", function()
  local s = assert(procfs.stat(26231))
  T.eq({ s.pid, s.comm, s.state, s.ppid, s.num_threads, s.starttime, s.vsize },
       { 26231, "vim", "R", 5392, 1, 82375, 56274944 }, "pid comm state ppid num_threads starttime vsize")
  T.eq(s.rss, 1981 * procfs.page_size(), "rss in bytes (pages times page size)")
end)

T.test("comm with spaces and parentheses ends at the last ')'", function()
  local s = assert(procfs.stat(27079))
  T.eq(s.comm, "pthread_load", "comm of 27079")
  local text = T.read(T.fixtures .. "/procfs/proc/584/stat"):match("^[^\n]*")
  T.eq(text:match("^%d+ %((.*)%) R "), "(a b ) ( c d) ", "the fixture's comm really has parentheses")
end)

T.test("text after the one line the kernel prints is an error naming file and line", function()
  local s, err, errno = procfs.stat(584)
  T.eq({ s, err, errno },
       { nil, T.fixtures .. "/procfs/proc/584/stat:2: unexpected text after the first line", 22 }, "result")
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
