#!/bin/bash
# The project's test command (npm test): type check, unit tests, build, CLI tests of the built binary, and the
# real-Pacemaker suite (root: it installs Pacemaker with apt-get and our agents into /).
# Ends with a plain "N passed, N failed" line over every suite.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
passed=0; failed=0; broken=()

step() { printf '\n=== %s\n' "$*"; }
count_tap() { # count_tap FILE: add a TAP stream's results
  local ok nok
  ok=$(grep -c '^ok ' "$1" || true); nok=$(grep -c '^not ok ' "$1" || true)
  passed=$((passed + ok)); failed=$((failed + nok))
}

step "packages the tests need (resource-agents' DTD for the unit tests, Pacemaker, the bench references)"
bash test/rig/pacemaker/install.sh || broken+=(rig-install)

step "type check"
npm run -s typecheck || broken+=(typecheck)

step "unit tests (vitest)"
npx vitest run --reporter=default --reporter=json --outputFile="$OUT/vitest.json"
rc=$?
if [ -s "$OUT/vitest.json" ]; then
  read -r p f < <(node -e 'const r=require(process.argv[1]);console.log(r.numPassedTests, r.numFailedTests)' "$OUT/vitest.json")
  passed=$((passed + p)); failed=$((failed + f))
fi
[ $rc -eq 0 ] || broken+=(unit)

step "build"
if npm run -s build; then
  step "CLI tests of the built binary (bats)"
  bash test/cli/run.sh | tee "$OUT/cli.tap"
  [ "${PIPESTATUS[0]}" -eq 0 ] || broken+=(cli)
  count_tap "$OUT/cli.tap"

  step "real OpenStack clients (openstackclient, novaclient) against the simulator (bats)"
  bash test/clients/run.sh | tee "$OUT/clients.tap"
  [ "${PIPESTATUS[0]}" -eq 0 ] || broken+=(clients)
  count_tap "$OUT/clients.tap"

  step "real Pacemaker (bats)"
  bash test/pacemaker/run.sh | tee "$OUT/pacemaker.tap"
  [ "${PIPESTATUS[0]}" -eq 0 ] || broken+=(pacemaker)
  count_tap "$OUT/pacemaker.tap"
else
  broken+=(build)
fi

echo
[ ${#broken[@]} -eq 0 ] || echo "failed steps: ${broken[*]}"
echo "$passed passed, $failed failed"
[ ${#broken[@]} -eq 0 ] && [ "$failed" -eq 0 ]
