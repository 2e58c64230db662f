#!/usr/bin/env bats
# Smoke test of the benchmark harness (npm run bench): `bench/run.sh --quick` runs every section once, small, and
# prints the summary table. Asserts the table rows and that every measured number is a positive number — not timings
# (benchmarks are not timed tests). Needs the Debian reference packages that test/rig/pacemaker/install.sh installs.

ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"

@test "bench/run.sh --quick prints the summary table with positive numbers for every comparison" {
  for need in /usr/sbin/fence_compute.distrib /usr/sbin/fence_evacuate.distrib /usr/lib/python3/dist-packages/novaclient \
              /usr/lib/python3/dist-packages/keystoneauth1 /usr/lib/ocf/resource.d/heartbeat/openstack-info /usr/bin/time; do
    [ -e "$need" ] || [ -e "${need%.distrib}" ] || skip "$need missing (test/rig/pacemaker/install.sh installs it)"
  done
  ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1 || skip "libfaketime missing (apt-get install faketime)"
  run timeout 120 bash "$ROOT/bench/run.sh" --quick
  echo "$output" | tail -30
  [ "$status" -eq 0 ]
  [[ "$output" != *WARNING* ]]
  summary=$(echo "$output" | sed -n '/^## Summary/,/^Notes:/p')
  # every row of the summary: the comparison's two measurements and the ratio are positive numbers
  for row in 'cold start | metadata: ours fence_compute vs Debian fence_compute' \
             'cold start | monitor: ours fence_compute (token cached) vs Debian fence_compute' \
             'cold start | meta-data: ours NovaEvacuate vs Debian openstack-info (shell)' \
             'makespan | N=20: ours workers=8 vs Debian fence_evacuate (accepted)' \
             'makespan | N=20: ours workers=8 vs limit' \
             'makespan | N=20: Debian fence_evacuate vs limit' \
             'tokens | Keystone token requests per hour'; do
    line=$(echo "$summary" | grep -F "| $row") || { echo "row missing: $row"; false; }
    [[ "$line" =~ \|\ ([0-9]+(\.[0-9]+)?)\ (ms\ )?vs\ ([0-9]+(\.[0-9]+)?)(\ ms)?\ \|\ ([0-9]+\.[0-9]+)×\ \|$ ]] || { echo "not numbers: $line"; false; }
    awk -v a="${BASH_REMATCH[4]}" -v b="${BASH_REMATCH[7]}" 'BEGIN { exit !(a > 0 && b > 0) }' || { echo "not positive: $line"; false; }
  done
  # the makespan table counted exactly N evacuate calls for each agent
  [ "$(echo "$output" | grep -cE '^\| 20 \| .* \| 20 \| [0-9]+ \|$')" -ge 2 ]
}
