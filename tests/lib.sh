# Shared by the shell tests: sourced after `set -u`.  Every check prints
# "ok: WHAT" or "FAIL: WHAT", and the test ends with `exit $failed`.
failed=0
fail() { echo "FAIL: $*"; failed=1; }
ok() { echo "ok: $*"; }

# expect_in FILE TEXT WHAT: FILE holds TEXT, else its content is shown.
expect_in() {
  if grep -qF -- "$2" "$1"; then ok "$3"; else
    fail "$3: \"$2\" not in $1:"; sed 's/^/  | /' "$1"; fi
}
