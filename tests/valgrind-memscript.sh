#!/bin/sh
# Runs memscript under valgrind for the CLI tests: any memory error or leak fails the run.
# Leaks "still reachable" at exit are not counted: os.exit leaves the state open, as lua does.
# Valgrind's own messages go to a file, printed on stderr after the run without its warning that
# it does not know openat2 (syscall 437, newer than valgrind 3.19): memscript then takes its
# fallback, one directory at a time, which these runs test.
log=$(mktemp) || exit 97
valgrind -q --log-file="$log" --error-exitcode=97 --leak-check=full \
  --errors-for-leak-kinds=definite,indirect,possible --show-leak-kinds=definite,indirect,possible \
  "$MEMSCRIPT_REAL_BIN" "$@"
status=$?
grep -v -e 'WARNING: unhandled amd64-linux syscall: 437' -e 'You may be able to write your own handler' \
  -e 'Read the file README_MISSING_SYSCALL_OR_IOCTL' -e 'Nevertheless we consider this a bug' \
  -e 'it at http://valgrind.org/support/bug_reports.html' "$log" >&2
rm -f "$log"
exit $status
