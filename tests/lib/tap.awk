# tap.awk — what tap-run and tap-count both need to read a TAP test line.
#
# tap_directive(rest): "skip", "todo" or "" for the text after "ok N" /
# "not ok N".  TAP 13 (testanything.org/tap-version-13-specification.html,
# "Directives"): an unescaped "#" followed by SKIP (any word starting so:
# SKIPPED, skipping) or TODO, case-insensitively, wherever it is on the line.
# A skip is a skip on an "ok" and a "not ok" line alike (cmocka prints
# "not ok N # SKIP"); a "not ok … # TODO" is an expected failure, an
# "ok … # TODO" a TODO that passes.
function tap_directive(rest,    s, i, c, w) {
  s = rest
  while ((i = index(s, "#")) > 0) {
    c = (i > 1) ? substr(s, i - 1, 1) : ""
    s = substr(s, i + 1)
    if (c == "\\")
      continue
    w = tolower(s)
    sub(/^[ \t]*/, "", w)
    if (w ~ /^skip/) return "skip"
    if (w ~ /^todo([^a-z0-9_]|$)/) return "todo"
  }
  return ""
}

# tap_rest(line): the line without its "ok N -" / "not ok N -" head.
function tap_rest(line) {
  sub(/^[ \t]*(not[ \t]+)?ok[ \t]*[0-9]*[ \t]*(-[ \t]*)?/, "", line)
  return line
}
