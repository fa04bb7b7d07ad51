-- A test file CTest runs in place of one that cannot run here: it reports one skipped test.
-- usage: memscript unavailable.lua WHAT REASON   (the test that was not run, and why)
local T = require "testing"

T.test(arg[1] or "an unavailable test", function()
  if not arg[2] then error("usage: memscript unavailable.lua WHAT REASON") end
  T.skip(arg[2])
end)
T.done()
