-- memscript.metric and exporter.lua: the Prometheus text exposition format, checked by promtool and
-- scraped through a real node_exporter's textfile collector.

local T = require "testing"
local live = require "livehelper"
local cjson = require "cjson"

-- The helper program captured by capture.lua (tests/fixtures/helper-capture): process 1848.
local root = T.fixtures .. "/helper-capture/proc"
local tmp, tmp_cleanup <close> = T.tempdir()

local function memscript(args)
  return T.run(T.memscript_command() .. " " .. args)
end

-- Runs Lua code (after `local metric = require "memscript.metric"`) with memscript options before it.
local function with_metric(code, options)
  return memscript((options or "") .. " -e " .. T.q('local metric = require "memscript.metric" ' .. code))
end

local function has(program)
  local _, _, status = T.run("command -v " .. program)
  return status == 0
end

-- promtool's verdict on a text: exit status and what it said.
local function promtool(text)
  local path = tmp .. "/check.prom"
  T.write(path, text)
  local out, err, status = T.run("promtool check metrics < " .. T.q(path))
  return status, out .. err
end

T.test("-f prom renders HELP and TYPE once per family, then its samples in the order set", function()
  local out, err, status = with_metric(
    'metric.gauge("memscript_a_bytes", 10, { pid = 2, command = "b" }, "A help") ' ..
    'metric.gauge("memscript_b", 1, nil, "B help") ' ..
    'metric.gauge("memscript_a_bytes", 20, { command = "c", pid = 1 }) ' ..
    'metric.gauge("memscript_a_bytes", 11, { pid = 2, command = "b" }, "other help is ignored")', "-f prom")
  T.eq({ err, status }, { "", 0 }, "stderr and status")
  T.same_text(out, table.concat({
    "# HELP memscript_a_bytes A help",
    "# TYPE memscript_a_bytes gauge",
    'memscript_a_bytes{command="b",pid="2"} 11',
    'memscript_a_bytes{command="c",pid="1"} 20',
    "# HELP memscript_b B help",
    "# TYPE memscript_b gauge",
    "memscript_b 1",
    "" }, "\n"), "exposition")
end)

T.test("values: exact integers, the shortest float that reads back, NaN, +Inf and -Inf", function()
  local out = with_metric('metric.gauge("m", math.maxinteger) metric.gauge("m", 0.1, { k = "f" }) ' ..
    'metric.gauge("m", 2^70, { k = "big" }) metric.gauge("m", 0/0, { k = "nan" }) ' ..
    'metric.gauge("m", 1/0, { k = "inf" }) metric.gauge("m", -1/0, { k = "minf" }) metric.gauge("m", -3, { k = "neg" })',
    "-f prom")
  T.same_text(out, table.concat({
    "# TYPE m gauge",
    "m 9223372036854775807",
    'm{k="f"} 0.1',
    'm{k="big"} 1.1805916207174113e+21',
    'm{k="nan"} NaN',
    'm{k="inf"} +Inf',
    'm{k="minf"} -Inf',
    'm{k="neg"} -3',
    "" }, "\n"), "exposition")
end)

T.test("label values escape backslash, double quote and newline; invalid UTF-8 becomes U+FFFD", function()
  local out = with_metric([[metric.gauge("m", 1, { v = 'a\\b"c\nd' }, "help with \\ and\nnewline") ]] ..
    [[metric.gauge("m", 2, { v = "caf\xc3\xa9 \xff\xc3" }) metric.gauge("m", 3, { v = 42 })]], "-f prom")
  T.same_text(out, table.concat({
    [[# HELP m help with \\ and\nnewline]],
    "# TYPE m gauge",
    [[m{v="a\\b\"c\nd"} 1]],
    'm{v="caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd"} 2',
    'm{v="42"} 3',
    "" }, "\n"), "exposition")
  if not has("promtool") then T.skip("promtool is not installed (Debian package prometheus)") end
  local status, said = promtool(out)
  T.eq(status, 0, "promtool check metrics: " .. said)
end)

T.test("bad names, labels and values are errors in the calling script", function()
  local cases = {
    { 'metric.gauge("1abc", 1)', "bad metric name '1abc' (letters, digits, '_' and ':', not starting with a digit)" },
    { 'metric.gauge("a-b", 1)', "bad metric name 'a-b'" },
    { 'metric.gauge("m", "1")', "bad value for 'm' (number expected, got string)" },
    { 'metric.gauge("m", 1, { ["__x"] = "y" })', "bad label name '__x' for 'm'" },
    { 'metric.gauge("m", 1, { ["a.b"] = "y" })', "bad label name 'a.b' for 'm'" },
    { 'metric.gauge("m", 1, { a = true })', "bad value for label 'a' of 'm' (string or number expected, got boolean)" },
    { 'metric.gauge("m", 1, "pid")', "bad labels for 'm' (table expected, got string)" },
  }
  for _, case in ipairs(cases) do
    local out, err, status = with_metric(case[1], "-f prom")
    T.eq({ out, status }, { "", 3 }, case[1])
    T.contains(err, "(command line):1: " .. case[2], "stderr of " .. case[1])
  end
end)

T.test("without -f prom nothing is printed; metric.render gives the text and metric.samples the values", function()
  local out, _, status = with_metric('metric.gauge("m", 1, { a = "x" }, "h")')
  T.eq({ out, status }, { "", 0 }, "nothing rendered")
  out = with_metric('metric.gauge("m", 1, { a = "x" }, "h") io.write(metric.render()) ' ..
    'local s = metric.samples()[1] print(#metric.samples(), s.name, s.labels.a, s.value, s.help)')
  T.eq(out, '# HELP m h\n# TYPE m gauge\nm{a="x"} 1\n1\tm\tx\t1\th\n', "render and samples")
end)

T.test("in watch mode each run renders its own gauges: a series not set again is gone", function()
  local path = tmp .. "/watch.prom"
  local code = 'local n = require("memscript.sys").iteration ' ..
    'metric.gauge("memscript_run", n) if n == 1 then metric.gauge("memscript_first_only", 1) end'
  local out, err, status = with_metric(code, "-f prom --interval 0.05 --count 3")
  T.eq(status, 0, "status (stderr " .. err .. ")")
  T.same_text(out, "# TYPE memscript_run gauge\nmemscript_run 1\n# TYPE memscript_first_only gauge\n" ..
    "memscript_first_only 1\n# TYPE memscript_run gauge\nmemscript_run 2\n# TYPE memscript_run gauge\nmemscript_run 3\n",
    "three renders")
  with_metric(code, "-f prom --interval 0.05 --count 2 -o " .. T.q(path))
  T.eq(T.read_if(path), "# TYPE memscript_run gauge\nmemscript_run 2\n", "the file holds the last run alone")
end)

T.test("exporter.lua on a captured process: its memory from smaps_rollup and status, meminfo by key", function()
  local out, err, status = memscript("--proc-root " .. T.q(root) .. " -f prom exporter.lua 1848")
  T.eq({ err, status }, { "", 0 }, "stderr and status")
  local expected = {
    'memscript_process_rss_bytes{command="memhelper",pid="1848"} 1060864',       -- Rss 1036 kB
    'memscript_process_pss_bytes{command="memhelper",pid="1848"} 1056768',       -- Pss 1032 kB
    'memscript_process_uss_bytes{command="memhelper",pid="1848"} 1056768',       -- 0 + 1032 + 0 kB
    'memscript_process_swap_bytes{command="memhelper",pid="1848"} 0',            -- Swap 0 kB
    'memscript_process_anonymous_bytes{command="memhelper",pid="1848"} 253952',  -- Anonymous 248 kB
    'memscript_process_file_bytes{command="memhelper",pid="1848"} 753664',       -- RssFile 736 kB
    'memscript_process_shmem_bytes{command="memhelper",pid="1848"} 53248',       -- RssShmem 52 kB
    "memscript_processes_read 1",
    "memscript_processes_unreadable 0",
    'memscript_meminfo_bytes{key="MemTotal"} 25276157952',                       -- 24683748 kB
    'memscript_meminfo_bytes{key="Active(anon)"} 81920',                         -- 80 kB
    'memscript_meminfo_bytes{key="VmallocTotal"} 35184372087808',                -- 34359738367 kB
    'memscript_meminfo_hugepages{key="HugePages_Total"} 0',
    'memscript_meminfo_bytes{key="Hugepagesize"} 2097152',
  }
  for _, line in ipairs(expected) do T.contains(out, "\n" .. line .. "\n", line) end
  local _, series = out:gsub("\nmemscript_meminfo_[a-z]+{", "")
  T.eq(series, 53, "one series per meminfo line")
  T.ok(not out:find("memscript_meminfo_value", 1, true), "no unit-less line other than HugePages_*")
end)

T.test("exporter.lua all on a damaged capture: a process without smaps_rollup is counted and named", function()
  -- 4804 and 4805: the live capture, 4805 less its smaps_rollup; 109: a kernel thread (empty maps, no
  -- smaps_rollup); 4806: a directory without files, a process gone; the live capture's meminfo
  local dir = T.sh("mktemp -d -p " .. T.q(tmp)):gsub("\n$", "")
  local capture = T.fixtures .. "/live-capture/proc/4804"
  T.sh(string.format("cp -r %s %s/4804 && cp -r %s %s/4805 && cp -r %s %s/109 && mkdir %s/4806 && " ..
    "cp %s/../meminfo %s/ && chmod -R u+w %s", T.q(capture), T.q(dir), T.q(capture), T.q(dir),
    T.q(T.fixtures .. "/edge/proc/109"), T.q(dir), T.q(dir), T.q(capture), T.q(dir), T.q(dir)))
  assert(os.remove(dir .. "/4805/smaps_rollup"))
  local out, err, status = memscript("--proc-root " .. T.q(dir) .. " -f prom exporter.lua all")
  T.eq({ err, status }, { "2 processes unreadable: 1 gone, 1 other (" .. dir ..
    "/4805/smaps_rollup: No such file or directory)\n", 0 }, "stderr and status")
  T.contains(out, "\nmemscript_processes_read 1\n", "read: 4804")
  T.contains(out, "\nmemscript_processes_unreadable 1\n", "unreadable: 4805, not the kernel thread or the gone")
  T.contains(out, '\nmemscript_process_rss_bytes{command="sleep",pid="4804"} 1884160\n', "4804's Rss, 1840 kB")
  T.ok(not out:find('pid="4805"', 1, true), "no series of 4805")
  -- with the file back, no process is unreadable and nothing is said
  T.sh(string.format("cp %s/smaps_rollup %s/4805/", T.q(capture), T.q(dir)))
  out, err, status = memscript("--proc-root " .. T.q(dir) .. " -f prom exporter.lua all")
  T.eq({ err, status }, { "", 0 }, "stderr and status, whole")
  T.contains(out, "\nmemscript_processes_read 2\n", "read: 4804 and 4805")
  T.contains(out, "\nmemscript_processes_unreadable 0\n", "none unreadable")
end)

T.test("exporter.lua all passes promtool check metrics; --top bounds the processes", function()
  if not has("promtool") then T.skip("promtool is not installed (Debian package prometheus)") end
  local out, err, status = memscript("-f prom exporter.lua all")
  T.eq({ err, status }, { "", 0 }, "stderr and status")
  local verdict, said = promtool(out)
  T.eq(verdict, 0, "promtool check metrics: " .. said)
  local read_count = tonumber(out:match("\nmemscript_processes_read (%d+)\n"))
  T.ok(read_count and read_count > 1, "processes read: " .. tostring(read_count))
  local _, rss_series = out:gsub("\nmemscript_process_rss_bytes{", "")
  T.eq(rss_series, read_count, "one rss series per process read")
  out = memscript("-f prom exporter.lua --top 2 all")
  _, rss_series = out:gsub("\nmemscript_process_rss_bytes{", "")
  T.eq(rss_series, 2, "rss series with --top 2")
  T.eq(promtool(out), 0, "promtool on --top output")
end)

T.test("exporter.lua -f json prints the samples; a process given by number that is gone is status 3", function()
  local out, _, status = memscript("--proc-root " .. T.q(root) .. " -f json exporter.lua 1848")
  T.eq(status, 0, "status")
  local samples = cjson.decode(out)
  T.eq(samples[1].name, "memscript_process_rss_bytes", "first sample")
  T.eq(samples[1].labels.pid, "1848", "pid label")
  T.ok(samples[1].value == 1060864, "value")
  local _, err
  _, err, status = memscript("exporter.lua 999999999")
  T.eq(status, 3, "status for a gone pid")
  T.contains(err, "999999999", "stderr")
end)

-- ---- end to end: node_exporter's textfile collector serves memscript's file ----

-- Starts node_exporter on a free port of 127.0.0.1 with the textfile collector alone; returns
-- {pid, port} once /metrics answers, or nil, reason.
local function start_node_exporter(dir)
  for _ = 1, 5 do
    local port = math.random(20000, 60000)
    local busy = T.run("ss -Hltn " .. T.q("sport = :" .. port) .. " 2>/dev/null")
    if busy == "" then
      local pid = tonumber((T.run("prometheus-node-exporter --collector.disable-defaults --collector.textfile " ..
        "--collector.textfile.directory=" .. T.q(dir) .. " --web.listen-address=127.0.0.1:" .. port ..
        " >" .. T.q(dir .. "/../node_exporter.log") .. " 2>&1 & echo $!"):match("%d+")))
      -- against a hang only: node_exporter answers within a second once it listens
      local deadline = os.time() + 30
      while pid and os.time() <= deadline do
        local _, _, up = T.run("curl -sf --max-time 1 -o /dev/null http://127.0.0.1:" .. port .. "/metrics")
        if up == 0 then return { pid = pid, port = port } end
        local _, _, alive = T.run("kill -0 " .. pid)
        if alive ~= 0 then break end  -- the port was taken after all: try another
        T.run("sleep 0.1")
      end
      if pid then T.run("kill " .. pid .. " 2>/dev/null; sleep 0.1; kill -9 " .. pid .. " 2>/dev/null") end
    end
  end
  return nil, "node_exporter did not answer on any of five ports: " .. (T.read_if(dir .. "/../node_exporter.log") or "")
end

T.test("node_exporter's textfile collector serves the file memscript writes with -o", function()
  if not has("prometheus-node-exporter") then T.skip("prometheus-node-exporter is not installed") end
  if not has("curl") then T.skip("curl is not installed") end
  local h = live.start()
  local dir = tmp .. "/textfile"
  T.run("mkdir -p " .. T.q(dir))
  local file = dir .. "/memscript.prom"
  local exporter, ok, problem
  ok, problem = pcall(function()
    local _, err, status = memscript("-f prom --interval 0.05 --count 2 -o " .. T.q(file) .. " exporter.lua " .. h.pid)
    T.eq({ err, status }, { "", 0 }, "memscript's stderr and status")
    local written = T.read(file)
    local rss = written:match('\nmemscript_process_rss_bytes{command="memhelper",pid="' .. h.pid .. '"} (%d+)\n')
    T.ok(rss, "the helper's rss in the file: " .. written:sub(1, 400))
    local why
    exporter, why = start_node_exporter(dir)
    if not exporter then error(why) end
    local scraped = T.run("curl -sf --max-time 30 http://127.0.0.1:" .. exporter.port .. "/metrics")
    T.contains(scraped, "node_textfile_scrape_error 0\n", "no textfile error")
    local served = scraped:match('\nmemscript_process_rss_bytes{command="memhelper",pid="' .. h.pid .. '"} (%S+)\n')
    T.ok(served, "the helper's rss served")
    T.ok(tonumber(served) == tonumber(rss), "served value " .. served .. " is the file's " .. rss)
    T.contains(scraped, "# TYPE memscript_meminfo_bytes gauge\n", "meminfo family")
    T.ok(scraped:find('\nmemscript_meminfo_bytes{key="MemTotal"} ', 1, true), "MemTotal served")
  end)
  if exporter then T.run("kill " .. exporter.pid .. "; sleep 0.2; kill -9 " .. exporter.pid .. " 2>/dev/null") end
  live.stop(h)
  if not ok then error(problem, 0) end
end)

T.done()
