-- default.lua: the rules rules.lua checks when no -r FILE is given; a template for your own.
--
-- A rules file returns an array of rules and runs with no io, os, require or print: only the pure
-- functions of Lua (string, table, math, utf8, pairs, tonumber...). Each rule:
--   when      a where-expression (docs/where.md), tested on each mapping of the process, or with
--             scope = "process" on the process's fields (pid, comm, status and smaps_rollup keys)
--   severity  "warning" or "critical"
--   message   what a match is called: rules.lua prints "MESSAGE in pid PID", counted per message
--   scope     "mapping" (the default) or "process"
--   name      a short label for perfdata and JSON (default rule_N)
-- Thresholds on RSS and swap come from rules.lua's --rss and --swap options, added to any rules file.

return {
  {
    name = "wx",
    when = "writable and executable",
    severity = "critical",
    message = "writable+executable mapping",
  },
  {
    -- the main thread's stack, or any grows-down mapping (VmFlags gd), that is executable
    name = "exec_stack",
    when = "(kind == 'stack' and executable) or (VmFlags.gd and VmFlags.ex)",
    severity = "critical",
    message = "executable stack",
  },
  {
    -- code from a file deleted since: often a program or library replaced by an upgrade, and the
    -- process not restarted; sometimes code meant to leave no file behind
    name = "deleted_exec",
    when = "executable and kind == 'deleted'",
    severity = "warning",
    message = "executable mapping of a deleted file",
  },
  {
    -- memfd_create() code: runs from memory alone (container runtimes do it; so does malware)
    name = "memfd_exec",
    when = "executable and kind == 'memfd'",
    severity = "warning",
    message = "executable memfd mapping",
  },
}
