#!/usr/bin/env bats
# Golden metadata, as fence-agents checks its agents' (tests/data/metadata): each agent's metadata from the built
# binary (OCF: meta-data, fence: -o metadata) must equal test/fixtures/metadata/AGENT.xml byte for byte, so that any
# change to a parameter, default, description or action shows in review as a change to that file.
# The package version (resource-agent version="...") is written as @VERSION@ in the golden files, so a version bump
# does not change them. After an intended change, regenerate them and review the diff:
#   npm run build && UPDATE_GOLDEN=1 bash test/cli/run.sh test/cli/metadata.bats && git diff test/fixtures/metadata

load helpers

GOLDEN="$ROOT/test/fixtures/metadata"

# metadata AGENT: the agent's metadata with the package version replaced by @VERSION@
metadata() {
  local version
  version=$("$BIN" --version | sed -n 's/^openstack-ha-agents \([^ ]*\) .*/\1/p')
  [ -n "$version" ] || { echo "cannot read the version from: $("$BIN" --version)" >&2; return 1; }
  case "$1" in
    fence_*) "$BIN" "$1" -o metadata ;;
    *) "$BIN" "$1" meta-data ;;
  esac | sed "s/\([^0-9.]\)${version//./\\.}\([^0-9.]\)/\1@VERSION@\2/g"
}

@test "every agent's metadata equals its golden file (UPDATE_GOLDEN=1 rewrites them)" {
  run "$BIN" --list
  [ "$status" -eq 0 ]
  agents=$output
  [ "$(echo "$agents" | wc -l)" -ge 14 ]
  bad=
  for a in $agents; do
    metadata "$a" >"$BATS_TEST_TMPDIR/$a.xml" || { echo "$a: metadata failed"; bad+=" $a"; continue; }
    if [ "${UPDATE_GOLDEN:-}" = 1 ]; then
      mkdir -p "$GOLDEN"
      cmp -s "$BATS_TEST_TMPDIR/$a.xml" "$GOLDEN/$a.xml" || { cp "$BATS_TEST_TMPDIR/$a.xml" "$GOLDEN/$a.xml"; echo "# updated $GOLDEN/$a.xml" >&3; }
    elif [ ! -f "$GOLDEN/$a.xml" ]; then
      echo "$a: no golden file $GOLDEN/$a.xml (UPDATE_GOLDEN=1 writes it)"; bad+=" $a"
    elif ! diff -u "$GOLDEN/$a.xml" "$BATS_TEST_TMPDIR/$a.xml"; then
      echo "$a: metadata differs from $GOLDEN/$a.xml (- golden, + built); if intended: UPDATE_GOLDEN=1, see this file's header"; bad+=" $a"
    fi
  done
  [ -z "$bad" ] || { echo "differs:$bad"; false; }
}

@test "no golden metadata file is left for an agent the binary no longer has" {
  run "$BIN" --list
  [ "$status" -eq 0 ]
  for f in "$GOLDEN"/*.xml; do
    a=$(basename "$f" .xml)
    grep -qxF "$a" <<<"$output" || {
      [ "${UPDATE_GOLDEN:-}" = 1 ] && { rm "$f"; echo "# removed $f" >&3; continue; }
      echo "$f: no agent $a in --list (UPDATE_GOLDEN=1 removes it)"; false
    }
  done
}

@test "the golden files hold no version number of the package" {
  version=$("$BIN" --version | sed -n 's/^openstack-ha-agents \([^ ]*\) .*/\1/p')
  run grep -l "version=\"$version\"" "$GOLDEN"/*.xml
  [ "$status" -eq 1 ] || { echo "not normalised: $output"; false; }
  grep -q 'version="@VERSION@"' "$GOLDEN/NovaEvacuate.xml"
}
