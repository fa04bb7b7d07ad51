-- memscript.sys.statfs: a file system's figures through one O_PATH descriptor, its device named as
-- mountinfo names it, symbolic links refused.

local T = require "testing"

local format = string.format

local TMPFS_MAGIC = 0x01021994

local tmp, cleanup <close> = T.tempdir()

local function need_root_and_unshare()
  if T.sh("id -u"):match("%d+") ~= "0" then T.skip("needs root to mount a tmpfs") end
  if select(3, T.run("command -v unshare")) ~= 0 then T.skip("unshare (util-linux) is not installed") end
end

T.test("a tmpfs of 1 MiB: its type, its size in pages, the pages a file takes, and mountinfo's device", function()
  need_root_and_unshare()
  local dir = tmp .. "/mnt"
  T.sh("mkdir " .. T.q(dir))
  -- A private mount namespace: the mount ends with the command, whatever happens to the test.
  local script = format([[
local sys = require "memscript.sys"
local before = assert(sys.statfs(%q))
local f = assert(io.open(%q .. "/three-pages", "w"))
f:write(string.rep("x", 3 * 4096))
f:close()
local after = assert(sys.statfs(%q))
local dev
for line in io.lines("/proc/self/mountinfo") do
  local d, point = line:match("^%%d+ %%d+ (%%d+:%%d+) %%S+ (%%S+)")
  if point == %q then dev = d end
end
print(before.type, before.block_size, before.blocks, before.blocks - before.blocks_free,
  after.blocks - after.blocks_free, after.blocks_available == after.blocks_free, before.dev == dev, after.dev)]],
    dir, dir, dir, dir)
  local out = T.sh(format("unshare -m sh -c %s", T.q(format("mount -t tmpfs -o size=1m,mode=700 memscript-test %s && %s -e %s",
    T.q(dir), T.memscript_command(), T.q(script)))))
  local fields = {}
  for field in out:gmatch("[^\t\n]+") do fields[#fields + 1] = field end
  local page = math.tointeger(tonumber(T.sh("getconf PAGESIZE")))
  T.eq(tonumber(fields[1]), TMPFS_MAGIC, "type: TMPFS_MAGIC")
  T.eq(tonumber(fields[2]), page, "block size: a page")
  T.eq(tonumber(fields[3]), 1048576 // page, "blocks: 1 MiB of pages")
  T.eq(tonumber(fields[4]), 0, "used before the file")
  T.eq(tonumber(fields[5]), 3 * 4096 // page, "used after writing three 4 KiB blocks")
  T.eq(fields[6], "true", "tmpfs keeps no reserve: available is free")
  T.eq(fields[7], "true", "dev is mountinfo's major:minor of the mount")
  T.ok(fields[8]:match("^0:%d+$") ~= nil, "a tmpfs has an anonymous device 0:N: " .. tostring(fields[8]))
end)

T.test("a symbolic link is refused, not followed (ELOOP), and a missing path is the system's error", function()
  T.sh(format("ln -s / %s/link", T.q(tmp)))
  local out = T.sh(T.memscript_command() .. " -e " .. T.q(format([[
local sys = require "memscript.sys"
print(sys.statfs(%q))
print(sys.statfs(%q))]], tmp .. "/link", tmp .. "/missing")))
  T.eq(out, format("nil\t%s/link: a symbolic link (statfs does not follow one)\t40\n" ..
                   "nil\t%s/missing: No such file or directory\t2\n", tmp, tmp), "link, missing")
end)

T.test("a FIFO is not opened for reading: statfs returns at once with the file system holding it", function()
  T.sh(format("mkfifo %s/fifo", T.q(tmp)))
  local out = T.sh("timeout 20 " .. T.memscript_command() .. " -e " .. T.q(format([[
local sys = require "memscript.sys"
local fifo, dir = assert(sys.statfs(%q)), assert(sys.statfs(%q))
print(fifo.dev == dir.dev, fifo.type == dir.type, fifo.blocks == dir.blocks)]], tmp .. "/fifo", tmp)))
  T.eq(out, "true\ttrue\ttrue\n", "the FIFO's file system is its directory's")
end)

T.test("statfs needs a path", function()
  local sys = require "memscript.sys"
  T.raises(function() sys.statfs() end, "bad argument #1 to 'statfs'", "no argument")
  T.raises(function() sys.statfs({}) end, "bad argument #1 to 'statfs'", "a table")
end)

T.done()
