#!/bin/sh
# Runs memscript under valgrind for the CLI tests: any memory error or leak fails the run.
# Leaks "still reachable" at exit are not counted: os.exit leaves the state open, as lua does.
exec valgrind -q --error-exitcode=97 --leak-check=full \
  --errors-for-leak-kinds=definite,indirect,possible --show-leak-kinds=definite,indirect,possible \
  "$MEMSCRIPT_REAL_BIN" "$@"
