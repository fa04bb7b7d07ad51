-- Limits that hold beyond the script's own code: __gc finalizers when the state closes, lua-cjson's
-- C buffers under --max-memory, and archives read into memory before the script runs.

local T = require "testing"

local function memscript(args)
  return T.memscript(nil, args)
end

local tmp, cleanup <close> = T.tempdir()

-- Under AddressSanitizer the resident size says nothing about memscript's own use (shadow memory,
-- the quarantine of freed blocks): figures measured from it are not checked there.
local sanitized = T.sh(T.memscript_command() .. " -e " .. T.q('print(io.open("/proc/self/maps"):read("a"):find("libasan", 1, true) ~= nil)'))
  == "true\n"

-- Finalizers ---------------------------------------------------------------------------------

T.test("--timeout bounds a finalizer that loops when the state closes: status 3 within the grace", function()
  local code = 'setmetatable({}, { __gc = function() while true do end end }) print("done")'
  -- (killed after a minute, should the limit not hold: a hang fails, it does not stall the suite)
  local out, err, status = T.memscript(nil, "--timeout 1 -e " .. T.q(code), { prefix = "timeout -s KILL 60" })
  T.eq({ out, err, status }, { "done\n", "memscript: timeout: the script ran longer than 1 seconds (--timeout) " ..
    "and its __gc finalizers were still running 1 s later: ended at once\n", 3 }, "stdout, stderr, status")
end)

T.test("Ctrl-C ends a finalizer that loops when the state closes, with status 3", function()
  local code = 'setmetatable({}, { __gc = function() io.stderr:write("looping\\n") while true do end end })'
  local errfile = tmp .. "/ctrlc.err"
  local out = T.run(T.memscript_command() .. " -e " .. T.q(code) .. " 2>" .. T.q(errfile) .. " & pid=$!; " ..
    "i=0; while [ $i -lt 100 ] && ! grep -q looping " .. T.q(errfile) .. "; do sleep 0.05; i=$((i+1)); done; " ..
    "kill -INT $pid; wait $pid; echo status $?")
  T.eq({ out, T.read(errfile) }, { "status 3\n", "looping\nmemscript: interrupted while closing the Lua state " ..
    "(its __gc finalizers): ended at once\n" }, "status and stderr")
end)

T.test("os.exit in a finalizer run by the close does not change the run's status", function()
  -- held by a global, so collected only when the state closes, whatever the collector does before
  local gc_exit = 'held = setmetatable({}, { __gc = function() os.exit(2) end }) '
  local _, err, status = memscript("-e " .. T.q(gc_exit .. 'error("script error")'))
  T.eq(status, 3, "a script error stays 3")
  T.ok(err:find("^memscript: %(command line%):1: script error\n"), "the script's error reported: " .. T.show(err))
  local out, ok_err, ok_status = memscript("-e " .. T.q(gc_exit .. 'print("fine")'))
  T.eq({ out, ok_err, ok_status }, { "fine\n", "", 0 }, "a run that went well stays 0")
  local _, _, raised = memscript("-e " .. T.q(gc_exit .. 'require("memscript.run").raise(1)'))
  T.eq(raised, 1, "the status the run raised stays")
end)

T.test("os.exit in a finalizer during the run (not the close) ends the run as os.exit does", function()
  local code = 'setmetatable({}, { __gc = function() os.exit(2) end }) collectgarbage() print("not reached")'
  local out, err, status = memscript("-e " .. T.q(code))
  T.eq({ out, err, status }, { "", "", 2 }, "stdout, stderr, status")
end)

T.test("a finalizer's output at the close goes into -o's file before it is committed", function()
  local path = tmp .. "/gc.out"
  local code = 'keep = setmetatable({}, { __gc = function() print("from __gc") end }) print("main")'
  local out, err, status = memscript("-o " .. T.q(path) .. " -e " .. T.q(code))
  T.eq({ out, err, status, T.read(path) }, { "", "", 0, "main\nfrom __gc\n" }, "stdout, stderr, status, file")
  local exit_path = tmp .. "/gc-exit.out"
  memscript("-o " .. T.q(exit_path) .. " -e " .. T.q(code .. ' os.exit(0)'))
  T.eq(T.read(exit_path), "main\nfrom __gc\n", "the same through os.exit")
end)

T.test("in watch mode with -o, a finalizer's output at the close is discarded: each file is already whole", function()
  local path = tmp .. "/gc-watch.out"
  local code = 'keep = keep or setmetatable({}, { __gc = function() print("from __gc") end }) ' ..
    'print("run", require("memscript.sys").iteration)'
  local out, err, status = memscript("--interval 0.01 --count 2 -o " .. T.q(path) .. " -e " .. T.q(code))
  T.eq({ out, err, status, T.read(path) }, { "", "", 0, "run\t2\n" }, "stdout, stderr, status, file")
end)

-- lua-cjson under --max-memory -----------------------------------------------------------------

-- 20 instances, each encoding an 8 MB string: lua-cjson keeps each instance's buffer. Without the
-- cap counting them this reached 206 MiB under --max-memory 64M.
local CJSON_INSTANCES = [[
local cjson = require "cjson"
local s = string.rep("x", 8 * 1024 * 1024)
local keep = {}
local ok, err = pcall(function()
  for i = 1, 20 do
    keep[i] = cjson.new()
    assert(#keep[i].encode(s) == #s + 2)
  end
end)
keep, s = nil, nil
collectgarbage()
print(ok, err, proc.status("self").VmHWM)
]]

T.test("--max-memory counts lua-cjson's buffers: 20 instances encoding 8 MB end with the memory message", function()
  local script = tmp .. "/cjson.lua"
  T.write(script, CJSON_INSTANCES)
  local out, err, status = memscript("--max-memory 64M " .. T.q(script))
  local ok, msg, hwm = out:match("^(%a+)\t([^\t]*)\t(%d+)\n$")
  T.eq({ ok, msg, err, status }, { "false", "not enough memory", "memscript: not enough memory: the run reached " ..
    "its --max-memory limit of 67108864 bytes (the script caught the error; its results may be incomplete)\n", 3 },
    "result, stderr, status")
  T.ok(tonumber(hwm) > 8 * 1024 * 1024, "VmHWM read: " .. T.show(out))
  if sanitized then T.skip("peak RSS is not memscript's own under AddressSanitizer", "anywhere") end
  T.ok(tonumber(hwm) < (64 + 32) * 1024 * 1024, "peak RSS near the 64 MiB cap, not past it: " .. hwm .. " bytes")
end)

T.test("the memory error raised inside lua-cjson is Lua's own, uncaught it ends the run with status 3", function()
  local code = 'require("cjson").encode(string.rep("x", 8 * 1024 * 1024))'
  local out, err, status = memscript("--max-memory 32M -e " .. T.q(code))
  T.eq({ out, err, status }, { "", "memscript: not enough memory: the run reached its --max-memory limit of " ..
    "33554432 bytes\n", 3 }, "stdout, stderr, status")
end)

T.test("a lua-cjson instance refused by --max-memory keeps working, its buffer kept or not", function()
  local code = [[
    local cjson = require "cjson"
    local big = string.rep("x", 8 * 1024 * 1024)
    print(pcall(cjson.encode, big))
    print(cjson.encode({ 1, "two", { three = 3 } }), cjson.decode('[1,"two"]')[2])
    cjson.encode_keep_buffer(false)
    print(pcall(cjson.encode, big))
    print(cjson.encode({ "again" }))]]
  local out, _, status = memscript("--max-memory 40M -e " .. T.q(code))
  T.eq({ out, status }, { "false\tnot enough memory\n" .. '[1,"two",{"three":3}]\ttwo\n' ..
    "false\tnot enough memory\n" .. '["again"]\n', 3 }, "stdout and status (3: the cap was reached)")
end)

T.test("decoding refused by --max-memory frees lua-cjson's buffer and leaves the instance working", function()
  -- the decoded string does not fit beside the text and lua-cjson's copy buffer: a Lua memory
  -- error inside lua-cjson, whose buffer would be lost without the wrapper (the ASan suite checks)
  local code = [[
    local cjson = require "cjson"
    local text = '["' .. string.rep("x", 8 * 1024 * 1024) .. '"]'
    collectgarbage()
    print(pcall(cjson.decode, text))
    print(cjson.decode('{"a":[true,false]}').a[2])]]
  local out, _, status = memscript("--max-memory 20M -e " .. T.q(code))
  T.eq({ out, status }, { "false\tnot enough memory\nfalse\n", 3 }, "stdout and status")
end)

T.test("lua-cjson without --max-memory encodes and decodes 8 MB strings", function()
  local code = 'local cjson = require "cjson" local s = string.rep("é\\n", 4 * 1024 * 1024) ' ..
    'local text = cjson.encode({ s }) print(#text, cjson.decode(text)[1] == s)'
  local out, err, status = memscript("-e " .. T.q(code))
  T.eq({ out, err, status }, { tostring(4 * 1024 * 1024 * 4 + 4) .. "\ttrue\n", "", 0 }, "stdout, stderr, status")
end)

-- Archives ----------------------------------------------------------------------------------------

-- A small .tar.gz holding an 8 GiB sparse file as proc/meminfo: a hole, then one line. libarchive
-- gives the hole as 8 GiB of zeros before the line (a file that ends in a hole gives nothing).
local function sparse_bomb()
  local dir = tmp .. "/bomb"
  local file = T.q(dir .. "/proc/meminfo")
  T.sh("mkdir -p " .. T.q(dir .. "/proc") .. " && truncate -s 8G " .. file .. " && echo 'MemTotal: 1 kB' >> " .. file ..
    " && tar --sparse -czf " .. T.q(dir .. ".tar.gz") .. " -C " .. T.q(dir) .. " proc && rm -r " .. T.q(dir))
  return dir .. ".tar.gz"
end

T.test("an archive holding an 8 GiB sparse file is refused before anything is allocated", function()
  local bomb = sparse_bomb()
  local size = tonumber((T.sh("stat -c %s " .. T.q(bomb))))
  T.ok(size < 4096, "the archive is small: " .. size .. " bytes")
  local code = 'print(proc.meminfo())'
  local out, err, status = memscript("--max-memory 64M --proc-root " .. T.q(bomb) .. " -e " .. T.q(code))
  T.eq({ out, err, status }, { "", "memscript: " .. bomb .. ": proc/meminfo: 8589934607 bytes uncompressed do not " ..
    "fit in --max-memory (67108864 bytes)\n", 3 }, "with --max-memory: stdout, stderr, status")
  out, err, status = memscript("--proc-root " .. T.q(bomb) .. " -e " .. T.q(code))
  T.eq({ out, err, status }, { "", "memscript: " .. bomb .. ": proc/meminfo: 8589934607 bytes uncompressed do not " ..
    "fit in the memory an archive may take without --max-memory (1073741824 bytes)\n", 3 },
    "without: the default budget, 1 GiB")
  out, err, status = memscript("-e " .. T.q('print(proc.at(' .. string.format("%q", bomb) .. '))'))
  T.eq({ out, err, status }, { "nil\t" .. bomb .. ": proc/meminfo: 8589934607 bytes uncompressed do not fit in " ..
    "the memory an archive may take without --max-memory (1073741824 bytes)\t12\n", "", 0 },
    "proc.at returns nil, the message and ENOMEM")
end)

T.test("an archive whose files together exceed --max-memory is refused at the file that does not fit", function()
  local dir = tmp .. "/many"
  T.sh("mkdir -p " .. T.q(dir .. "/proc/1") .. " && cd " .. T.q(dir .. "/proc/1") ..
    " && for i in $(seq 10 49); do head -c 1048576 /dev/zero > f$i; done && echo 'MemTotal: 1 kB' > ../meminfo" ..
    " && tar -czf " .. T.q(dir .. ".tar.gz") .. " -C " .. T.q(dir) .. " proc && rm -r " .. T.q(dir))
  local archive = dir .. ".tar.gz"
  local out, err, status = memscript("--max-memory 16M --proc-root " .. T.q(archive) .. " -e 'print(1)'")
  T.eq({ out, status }, { "", 3 }, "stdout and status")
  T.ok(err:find("^memscript: " .. archive:gsub("%p", "%%%0") .. ": proc/1/f%d%d: 1048576 bytes uncompressed do " ..
    "not fit in %-%-max%-memory %(16777216 bytes; the archive's files before it take %d+%)\n$"), "stderr: " .. T.show(err))
  out, err, status = memscript("--max-memory 128M --proc-root " .. T.q(archive) .. " -e 'print(#proc.read(\"1/f10\"))'")
  T.eq({ out, err, status }, { "1048576\n", "", 0 }, "the same archive under a cap it fits in")
end)

T.test("--timeout stops reading an archive that takes longer than the deadline", function()
  -- a gzip stream of ~5 million tar headers of one directory: nothing to keep, seconds to read
  local hdr_dir = tmp .. "/hdr"
  T.sh("mkdir -p " .. T.q(hdr_dir .. "/d") .. " && tar -cf " .. T.q(hdr_dir .. "/one.tar") .. " -C " .. T.q(hdr_dir) .. " d")
  local header = T.read(hdr_dir .. "/one.tar"):sub(1, 512)
  T.write(hdr_dir .. "/chunk", header:rep(16384))
  T.sh("gzip -9 " .. T.q(hdr_dir .. "/chunk"))
  local member = T.read(hdr_dir .. "/chunk.gz")
  local archive = tmp .. "/headers.tar.gz"
  local f = assert(io.open(archive, "wb"))
  for _ = 1, 320 do f:write(member) end
  f:close()
  T.sh("rm -r " .. T.q(hdr_dir))
  local out, err, status = T.memscript(nil, "--timeout 0.5 --proc-root " .. T.q(archive) .. " -e 'print(1)'",
                                      { prefix = "timeout -s KILL 60" })
  T.sh("rm " .. T.q(archive))
  T.eq({ out, err, status }, { "", "memscript: " .. archive .. ": reading stopped at d/: timeout: the run took " ..
    "longer than 0.5 seconds (--timeout)\n", 3 }, "stdout, stderr, status")
end)

T.done()
