-- sys.replace_file(path, text): a script's file written as -o writes standard output, whole or not at all.

local T = require "testing"

local function memscript(code, options)
  return T.memscript(nil, (options or "") .. " -e " .. T.q(code))
end

local function stat(path, format)
  return (T.sh("stat -c " .. T.q(format) .. " " .. T.q(path)):gsub("\n$", ""))
end

local function listing(dir)
  return T.sh("ls -A " .. T.q(dir))
end

-- Lua code that calls sys.replace_file(path, text) and prints what it returned.
local function replace_code(path, text)
  return string.format('print(require("memscript.sys").replace_file(%q, %q))', path, text)
end

T.test("sys.replace_file writes the text exactly, a new file 0666 less the umask, no temporary file left", function()
  local dir, cleanup <close> = T.tempdir()
  local path = dir .. "/chart.svg"
  local text = "<svg>\0\255 every byte\n</svg>"
  local out, err, status = T.memscript(nil, "-e " .. T.q(replace_code(path, text)), { prefix = "umask 027 &&" })
  T.eq({ out, err, status }, { "true\n", "", 0 }, "stdout, stderr, status")
  T.eq(T.read(path), text, "the file's bytes")
  T.eq(stat(path, "%a %U"), "640 root", "mode under umask 027, and owner")
  T.eq(listing(dir), "chart.svg\n", "only the file")
  -- a second write replaces it whole
  out = memscript(replace_code(path, "second"))
  T.eq({ out, T.read(path) }, { "true\n", "second" }, "replaced")
end)

T.test("sys.replace_file returns nil and the reason: a missing directory, a directory, a pipe", function()
  local dir, cleanup <close> = T.tempdir()
  T.sh("cd " .. T.q(dir) .. " && mkdir d && mkfifo fifo")
  local out, err, status = memscript(replace_code(dir .. "/missing/x.svg", "x"))
  T.eq({ out, err, status }, { "nil\t" .. dir .. "/missing/x.svg: No such file or directory\n", "", 0 }, "missing")
  for _, name in ipairs({ "d", "fifo" }) do
    out = memscript(replace_code(dir .. "/" .. name, "x"))
    T.eq(out, "nil\t" .. dir .. "/" .. name .. ": not a regular file (memscript replaces a file with a new one, " ..
      "renamed over it)\n", name)
  end
  T.eq(listing(dir), "d\nfifo\n", "nothing created")
end)

T.test("sys.replace_file refuses another user's link in a sticky world-writable directory", function()
  if T.sh("id -u") ~= "0\n" then T.skip("needs root to act as another user") end
  local _, _, runuser = T.run("runuser -u nobody -- true")
  if runuser ~= 0 then T.skip("runuser -u nobody is not available") end
  local dir, cleanup <close> = T.tempdir()
  T.sh("chmod 755 " .. T.q(dir))
  local shared, private = dir .. "/shared", dir .. "/private.txt"
  T.sh("mkdir -m 1777 " .. T.q(shared))
  T.write(private, "secret\n")
  T.sh("chmod 600 " .. T.q(private))
  T.sh("runuser -u nobody -- ln -s " .. T.q(private) .. " " .. T.q(shared .. "/map.svg"))
  local out, err, status = memscript(replace_code(shared .. "/map.svg", "picture"))
  T.eq({ out, err, status }, { "nil\t" .. shared .. "/map.svg: a symbolic link owned by nobody (uid 65534), " ..
    "neither you nor root: memscript does not write through another user's link\n", "", 0 }, "refused")
  T.eq({ T.read(private), stat(private, "%a %U") }, { "secret\n", "600 root" }, "the file the link names")
  T.eq(listing(shared), "map.svg\n", "the link alone, no temporary file")
end)

T.test("sys.replace_file while -o writes standard output: both files whole, each named in its own messages", function()
  local dir, cleanup <close> = T.tempdir()
  local out, err, status = memscript(replace_code(dir .. "/b.svg", "B") .. " print('A')",
    "-o " .. T.q(dir .. "/a.txt"))
  T.eq({ out, err, status }, { "", "", 0 }, "stdout, stderr, status")
  T.eq({ T.read(dir .. "/a.txt"), T.read(dir .. "/b.svg") }, { "true\nA\n", "B" }, "both files")
  -- a refused write of the script's file leaves -o's file to be written, and -o's failure names -o's path
  out, err, status = memscript(replace_code(dir, "x") .. " print('A')", "-o " .. T.q(dir .. "/a2.txt"))
  T.eq({ out, err, status }, { "", "", 0 }, "the script's file refused: stdout, stderr, status")
  T.eq(T.read(dir .. "/a2.txt"), "nil\t" .. dir .. ": not a regular file (memscript replaces a file with a new " ..
    "one, renamed over it)\nA\n", "-o's file")
end)

T.test("--sandbox takes sys.replace_file away", function()
  local dir, cleanup <close> = T.tempdir()
  local out, err, status = memscript(replace_code(dir .. "/x.svg", "x"), "--sandbox")
  T.eq({ out, status }, { "", 3 }, "stdout and status")
  T.contains(err, "sys.replace_file is not available in --sandbox", "stderr")
  T.eq(listing(dir), "", "nothing written")
end)

T.done()
