#!/usr/bin/env bats
# Scenario B: the same host failure, but the evacuation is done by our fence_evacuate as the second device of
# compute2's level-1 topology (nova-evacuate disabled, so nothing else evacuates). Runs after scenario A on the
# same rigs (A leaves fence-power, fence-nova and nova-evacuate configured and compute2 up and enabled).
# Then compute2 comes back and is unfenced through the fence path: stonith_admin --unfence (fence_compute "on").

load helpers

T="$E2E_OUT/B"
mark() { echo "$1=$(now_ms)" >>"$T.times"; }
get() { sed -n "s/^$1=//p" "$T.times" | tail -1; }

setup_file() {
  rm -f "$E2E_OUT"/B.*
}
teardown_file() {
  bg_stop B-watch
}

@test "B1 compute2 is up and enabled; boot 8 servers on it (3 flavor-tagged, 3 image-tagged, 2 untagged)" {
  wait_for 60 service_is compute2 'status=enabled state=up forced_down=false'
  osctl boot B-tag compute2 3xm1.evac/cirros 3xm1.tiny/cirros-evac >"$T.tagged"
  osctl boot B-untag compute2 2xm1.tiny/cirros >"$T.untagged"
  cat "$T.tagged" "$T.untagged" >"$T.all"
  osctl wait "$T.all" compute2 180
  run osctl servers "$T.all"
  echo "$output"
  [ "$(grep -c ' ACTIVE compute2 ' <<<"$output")" -eq 8 ]
}

@test "B2 pcs: nova-evacuate disabled; fence-evac (fence_evacuate) replaces fence-nova in compute2's level 1" {
  pcs resource disable nova-evacuate --wait=60
  pcs stonith create fence-evac fence_evacuate "${CREDS_FENCE[@]}" pcmk_host_list="compute1 compute2 compute3"
  pcs stonith level clear compute2
  pcs stonith level add 1 compute2 fence-power fence-evac --force
  wait_for 60 started fence-evac
  run pcs stonith level config
  echo "$output"
  grep -q 'fence-power,fence-evac' <<<"$output"
  ! started nova-evacuate || false
  printf on >"$E2E_OUT/power/compute2"
}

@test "B3 compute2 killed and fenced: fence_evacuate evacuates every tagged server once, before the fence returns" {
  bg_start B-watch osctl watch "$T.tagged" compute2 "$T.watch"
  sleep 1
  mark fail
  bash "$OSRIG/compute.sh" kill compute2
  run stonith_admin --fence compute2 --timeout 180
  mark fence
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(cat "$E2E_OUT/power/compute2")" = off ]
  osctl wait "$T.tagged" '!compute2' 120
  bg_stop B-watch
  run osctl servers "$T.all"
  echo "$output"
  while read -r id name st host task; do
    if grep -q "^$id " "$T.tagged"; then
      [ "$st" = ACTIVE ] && [[ "$host" == compute1 || "$host" == compute3 ]] || { echo "$name $st on $host"; false; }
    else
      [ "$host" = compute2 ] || { echo "untagged $name moved to $host"; false; }
    fi
  done <<<"$output"
  sleep 2
  run osctl evacuations "$T.all"
  echo "$output"
  while read -r id n; do
    if grep -q "^$id " "$T.tagged"; then [ "$n" -eq 1 ]; else [ "$n" -eq 0 ]; fi
  done <<<"$output"
  run action_counts "$T.all" "$(get fail)"
  echo "$output"
  while read -r id n; do
    if grep -q "^$id " "$T.tagged"; then [ "$n" -eq 1 ]; else [ "$n" -eq 0 ]; fi
  done <<<"$output"
  # every evacuate call was made inside the fencing operation (fence_evacuate returns once they are accepted)
  evac=$(first_action_ms "$T.tagged" "$(get fail)")
  [ -n "$evac" ] && [ "$evac" -le "$(get fence)" ]
  [[ "$(osctl service compute2)" == *forced_down=true ]]
  # nobody else evacuated: nova-evacuate stayed stopped
  ! started nova-evacuate || false
}

@test "B4 compute2 back: stonith_admin --unfence (fence_compute on) enables it and clears forced_down once nova-compute runs" {
  pcs stonith level clear compute2
  pcs stonith level add 1 compute2 fence-power fence-nova --force
  pcs stonith delete fence-evac
  # before nova-compute runs again: enabled, but Nova keeps forced_down (done evacuation records remain)
  run stonith_admin --unfence compute2 --timeout 120
  echo "$output"
  [ "$status" -eq 0 ]
  mark enabled
  [ "$(osctl service compute2)" = 'status=enabled state=down forced_down=true' ]
  bash "$OSRIG/compute.sh" start compute2 3>&-   # nova-compute must not inherit bats' fd 3
  mark restart
  n=0
  for _ in $(seq 1 20); do
    sleep 3; n=$((n + 1))
    run stonith_admin --unfence compute2 --timeout 120
    [ "$status" -eq 0 ]
    [[ "$(osctl service compute2)" == *forced_down=false ]] && [ "$(osctl placement compute2)" = schedulable ] && break
  done
  mark unfenced
  echo "unfence attempts after the restart: $n"
  [[ "$(osctl service compute2)" == *forced_down=false ]]
  wait_for 30 service_is compute2 'status=enabled state=up forced_down=false'
  [ "$(osctl placement compute2)" = schedulable ]
  osctl schedulable compute2 120
  mark up
  [ "$(cat "$E2E_OUT/power/compute2")" = on ]
  grep -E 'fence_compute.*(forced|force)' "$RIG_DIR/ra.log" | tail -5 || true
  f=$(get fail)
  evac=$(first_action_ms "$T.tagged" "$f")
  last=$(awk '$2 ~ /^ACTIVE@/ {print $1}' "$T.watch" | sort -n | tail -1)
  {
    echo "Scenario B timeline (seconds since compute2's nova-compute was killed):"
    echo "  0.0  failure (compute.sh kill compute2)"
    echo "  $(secs "$f" "$evac")  first evacuate call answered by nova-api (made by fence_evacuate during the fence)"
    echo "  $(secs "$f" "$(get fence)")  fence done (stonith_admin --fence compute2 returned)"
    sort -n "$T.watch" | while read -r ms ev id; do
      echo "  $(secs "$f" "$ms")  $(grep "^$id " "$T.tagged" | cut -d' ' -f2) $ev"
    done
    echo "  $(secs "$f" "$(get enabled)")  stonith_admin --unfence: compute2 enabled (forced_down kept by Nova)"
    echo "  $(secs "$f" "$(get restart)")  compute.sh start compute2"
    echo "  $(secs "$f" "$(get unfenced)")  stonith_admin --unfence: forced_down=false accepted (attempt $n after the restart)"
    echo "  $(secs "$f" "$(get up)")  compute2 enabled, up, not forced down"
    echo "fence done -> last tagged instance ACTIVE elsewhere: $(secs "$(get fence)" "$last") s"
  } >"$T.timeline"
  cat "$T.timeline"
}
