#!/bin/bash
# The project's test command (npm test): type check, unit tests, build, the fuzz test of the built binary, CLI tests
# of the built binary, and the real-Pacemaker suite (root: it installs Pacemaker with apt-get and our agents into /).
# Ends with a plain "N passed, N failed, N skipped" line over every suite, after the list of skipped tests and why.
# A skipped test fails the run unless test/skips-allowed.txt lists it (suite | test name | why CI may skip it).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
passed=0; failed=0; skipped=0; broken=(); skips=() # skips: "SUITE<tab>TEST NAME<tab>REASON"

step() { printf '\n=== %s\n' "$*"; }
count_tap() { # count_tap SUITE FILE: add a TAP stream's results (bats: "ok N name # skip reason" is a skip)
  local line name reason
  while IFS= read -r line; do
    if [[ "$line" =~ ^ok\ [0-9]+\ (.*)\ \#\ skip(\ (.*))?$ ]]; then
      name=${BASH_REMATCH[1]}; reason=${BASH_REMATCH[3]:-(no reason given)}
      skipped=$((skipped + 1)); skips+=("$1"$'\t'"$name"$'\t'"$reason")
    elif [[ "$line" == "ok "* ]]; then
      passed=$((passed + 1))
    elif [[ "$line" == "not ok "* ]]; then
      failed=$((failed + 1))
    fi
  done <"$2"
}
count_vitest() { # count_vitest SUITE JSON: add a vitest JSON report's results (skipped, todo and pending are skips)
  [ -s "$2" ] || return 0
  local counts
  counts=$(node -e '
    const r = require(process.argv[1]); const root = process.cwd() + "/"; let p = 0, f = 0; const s = [];
    for (const file of r.testResults) for (const t of file.assertionResults) {
      if (t.status === "passed") p++;
      else if (t.status === "failed") f++;
      else s.push(`${file.name.replace(root, "")} > ${[...t.ancestorTitles, t.title].join(" > ")}\tvitest: ${t.status} (its report gives no reason)`);
    }
    console.log(p, f); for (const x of s) console.log(x);' "$2")
  local p f line
  read -r p f <<<"${counts%%$'\n'*}"
  passed=$((passed + p)); failed=$((failed + f))
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    skipped=$((skipped + 1)); skips+=("$1"$'\t'"$line")
  done < <(tail -n +2 <<<"$counts")
}
# allowed_skip SUITE NAME: test/rig/lib.sh
# shellcheck source=rig/lib.sh
. test/rig/lib.sh

step "packages the tests need (resource-agents' DTD for the unit tests, Pacemaker, the bench references)"
bash test/rig/pacemaker/install.sh || broken+=(rig-install)

step "type check"
npm run -s typecheck || broken+=(typecheck)

step "dependency rules (dependency-cruiser, .dependency-cruiser.cjs)"
npm run -s depcheck || broken+=(depcheck)

step "unit tests (vitest)"
# the spawned part of the fuzz test runs after the build (FUZZ_BINARY=only below)
FUZZ_BINARY=off npx vitest run --reporter=default --reporter=json --outputFile="$OUT/vitest.json"
rc=$?
count_vitest unit "$OUT/vitest.json"
[ $rc -eq 0 ] || broken+=(unit)

step "build"
if npm run -s build; then
  step "fuzz test of the built binary (vitest)"
  # FUZZ_BINARY=only: only the part that spawns dist/openstack-ha-agents, which fails (not skips) without it
  FUZZ_BINARY=only npx vitest run test/unit/fuzz.test.ts --reporter=default --reporter=json --outputFile="$OUT/fuzz-binary.json"
  rc=$?
  count_vitest fuzz-binary "$OUT/fuzz-binary.json"
  [ $rc -eq 0 ] || broken+=(fuzz-binary)

  step "CLI tests of the built binary (bats)"
  bash test/cli/run.sh | tee "$OUT/cli.tap"
  [ "${PIPESTATUS[0]}" -eq 0 ] || broken+=(cli)
  count_tap cli "$OUT/cli.tap"

  step "real OpenStack clients (openstackclient, novaclient) against the simulator (bats)"
  bash test/clients/run.sh | tee "$OUT/clients.tap"
  [ "${PIPESTATUS[0]}" -eq 0 ] || broken+=(clients)
  count_tap clients "$OUT/clients.tap"

  step "real Pacemaker (bats)"
  bash test/pacemaker/run.sh | tee "$OUT/pacemaker.tap"
  [ "${PIPESTATUS[0]}" -eq 0 ] || broken+=(pacemaker)
  count_tap pacemaker "$OUT/pacemaker.tap"
else
  broken+=(build)
fi

echo
unexpected=0
if [ ${#skips[@]} -gt 0 ]; then
  echo "skipped (suite | test | reason):"
  for s in "${skips[@]}"; do
    IFS=$'\t' read -r suite name reason <<<"$s"
    if allowed_skip "$suite" "$name"; then
      echo "  $suite | $name | $reason"
    else
      echo "  $suite | $name | $reason   <- NOT in test/skips-allowed.txt: fails the run"
      unexpected=$((unexpected + 1))
    fi
  done
  [ "$unexpected" -eq 0 ] || broken+=("unexpected-skips($unexpected)")
fi
[ ${#broken[@]} -eq 0 ] || echo "failed steps: ${broken[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ ${#broken[@]} -eq 0 ] && [ "$failed" -eq 0 ]
