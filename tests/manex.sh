# Shared by the man page tests: sourced.  man_example PAGE OUT writes the
# code between a page's `.\" BEGIN EXAMPLE` and `.\" END EXAMPLE` lines
# to OUT as C, roff escapes undone (\e last, so that an escaped backslash
# cannot start another escape).  Returns 3 unless the page has exactly one
# such block.
man_example() {
  awk '
    /^\.\\" BEGIN EXAMPLE/ { n++; inside = 1; next }
    /^\.\\" END EXAMPLE/ { inside = 0; next }
    inside && !/^\.\\"/ { print }
    END { exit n == 1 ? 0 : 3 }
  ' "$1" >"$2.roff" || return 3
  sed -e 's/\\&//g' -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\(dq/"/g' \
    -e 's/\\(ga/`/g' -e 's/\\(ti/~/g' -e 's/\\(ha/^/g' -e 's/\\(rs/\\/g' \
    -e 's/\\e/\\/g' "$2.roff" >"$2"
}
