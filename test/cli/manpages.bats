#!/usr/bin/env bats
# Man pages (build/manpages.mjs, from each agent's metadata): one per agent, named as resource-agents and
# fence-agents name theirs, the sections they need, and groff reports no warning (man --warnings).

load helpers

setup_file() {
  bash "$ROOT/test/package/deps.sh" >&3
  export MANDIR="$BATS_FILE_TMPDIR/man"
  node "$ROOT/build/manpages.mjs" --bin "$BIN" "$MANDIR" >/dev/null
}

@test "one man page per agent: ocf_openstack_AGENT.7, fence_AGENT.8" {
  run "$BIN" --list
  [ "$status" -eq 0 ]
  n=0
  for a in $output; do
    case $a in
      fence_*) f="$MANDIR/man8/$a.8" ;;
      *) f="$MANDIR/man7/ocf_openstack_$a.7" ;;
    esac
    [ -s "$f" ] || { echo "missing: $f"; false; }
    n=$((n + 1))
  done
  [ "$(find "$MANDIR" -type f | wc -l)" -eq "$n" ]
}

@test "every man page renders with zero groff warnings (man --warnings -l)" {
  bad=
  for f in "$MANDIR"/man*/*; do
    w=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" 2>&1 >/dev/null)
    [ -z "$w" ] || { echo "$f: $w"; bad+=" $f"; }
    LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$f" >/dev/null 2>&1 || { echo "$f: man failed"; bad+=" $f"; }
  done
  [ -z "$bad" ]
}

@test "every man page has NAME, SYNOPSIS, DESCRIPTION, PARAMETERS, ACTIONS, EXIT STATUS, EXAMPLES (a pcs command)" {
  for f in "$MANDIR"/man*/*; do
    for s in NAME SYNOPSIS DESCRIPTION PARAMETERS ACTIONS 'EXIT STATUS' EXAMPLES; do
      grep -qx "\.SH $s" "$f" || { echo "$f: no section $s"; false; }
    done
    grep -q '^pcs \(resource\|stonith\) create' "$f" || { echo "$f: no pcs example"; false; }
  done
}

@test "the man pages say what the metadata says: every parameter, its default, required, the OCF exit codes" {
  text=$(MANWIDTH=200 man -l "$MANDIR/man7/ocf_openstack_NovaEvacuate.7" 2>/dev/null)
  for p in $("$BIN" NovaEvacuate meta-data | sed -n 's/^<parameter name="\([^"]*\)".*/\1/p'); do
    grep -q "^ *$p (" <<<"$text" || { echo "NovaEvacuate.7: no parameter $p"; false; }
  done
  grep -q 'endpoint_type (string, default: internalURL)' <<<"$text"
  grep -q 'OCF_NOT_RUNNING' <<<"$text"
  grep -q 'pcs resource create novaevacuate ocf:openstack:NovaEvacuate' <<<"$text"
  text=$(MANWIDTH=200 man -l "$MANDIR/man8/fence_compute.8" 2>/dev/null)
  grep -q 'plug, -n, --plug=\[id\]' <<<"$text"
  grep -q 'required' <<<"$text"
  grep -q 'pcs stonith create fence-compute fence_compute' <<<"$text"
  grep -qE '^ +2 +For status: the target is off' <<<"$text"
}
