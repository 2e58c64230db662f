#!/usr/bin/env bats
# npm run package (build/package.sh): the .deb and the .rpm are built from one staged tree and hold the same files;
# the .deb depends on pacemaker-cli-utils, its maintainer scripts divert fence-agents' agents and are valid sh; the
# .rpm conflicts with fence-agents-compute. Built with PKG_COMPRESS=gzip (xz takes minutes on a 100 MB binary).
# The install, removal and upgrade themselves are test/package/install-test.sh (as root, on a bare Debian 12).

load helpers

setup_file() {
  bash "$ROOT/test/package/deps.sh" >&3
  export PKG_VERSION="$("$BIN" --version | sed -n 's/^openstack-ha-agents \([^ ]*\) .*/\1/p')"
  export DEB="$ROOT/dist/openstack-ha-agents_${PKG_VERSION}_amd64.deb"
  export RPM="$ROOT/dist/openstack-ha-agents-${PKG_VERSION}.x86_64.rpm"
  rm -f "$DEB" "$RPM"
  (cd "$ROOT" && PKG_COMPRESS=gzip bash build/package.sh) >&3
}

# files (not directories) of each package, one absolute path a line, sorted
deb_files() { dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\./|/|' | LC_ALL=C sort; }
deb_dirs() { dpkg-deb -c "$DEB" | awk '$1 ~ /^d/ { print $6 }' | sed 's|^\./|/|; s|/$||' | LC_ALL=C sort; }

@test "both packages are built into dist/" {
  [ -s "$DEB" ]
  [ -s "$RPM" ]
}

@test "dpkg-deb -c and rpm -qlp list the same files" {
  deb_files >"$BATS_TEST_TMPDIR/deb"
  # rpm -qlp also lists the directories the package owns: drop those the .deb has as directories
  rpm -qlp "$RPM" | LC_ALL=C sort | LC_ALL=C comm -23 - <(deb_dirs) >"$BATS_TEST_TMPDIR/rpm"
  diff -u "$BATS_TEST_TMPDIR/deb" "$BATS_TEST_TMPDIR/rpm"
  [ "$(wc -l <"$BATS_TEST_TMPDIR/deb")" -ge 20 ]
}

@test "the packages hold the binary, every agent's link, gzipped man pages, copyright and changelog" {
  files=$(deb_files)
  grep -qx /usr/lib/openstack-ha-agents/openstack-ha-agents <<<"$files"
  for a in $("$BIN" --list); do
    case $a in
      fence_*) grep -qx "/usr/sbin/$a" <<<"$files"; grep -qx "/usr/share/man/man8/$a.8.gz" <<<"$files" ;;
      *) grep -qx "/usr/lib/ocf/resource.d/openstack/$a" <<<"$files"; grep -qx "/usr/share/man/man7/ocf_openstack_$a.7.gz" <<<"$files" ;;
    esac
  done
  grep -qx /usr/share/doc/openstack-ha-agents/copyright <<<"$files"
  grep -qx /usr/share/doc/openstack-ha-agents/changelog.gz <<<"$files"
  dpkg-deb --fsys-tarfile "$DEB" | tar -xO ./usr/share/doc/openstack-ha-agents/copyright | grep -q '^License: Apache-2.0'
  # the agents are hard links to the binary, not copies
  dpkg-deb -c "$DEB" | grep -q '^h.* ./usr/sbin/fence_compute link to '
}

@test "dpkg-deb -I shows the dependency on pacemaker-cli-utils; the rpm requires pacemaker-cli, conflicts with fence-agents-compute, -openstack and -virsh" {
  run dpkg-deb -I "$DEB"
  [ "$status" -eq 0 ]
  grep -qx ' Depends: pacemaker-cli-utils' <<<"$output"
  grep -qx ' Architecture: amd64' <<<"$output"
  grep -qx " Version: $PKG_VERSION" <<<"$output"
  run rpm -qp --requires "$RPM"
  grep -qx 'pacemaker-cli' <<<"$output"
  run rpm -qp --conflicts "$RPM"
  [ "$output" = "$(printf 'fence-agents-compute\nfence-agents-openstack\nfence-agents-virsh')" ]
}

@test "the maintainer scripts pass sh -n and divert fence_compute, fence_evacuate, fence_openstack, fence_virsh and their man pages as NAME.distrib" {
  dir="$BATS_TEST_TMPDIR/control"
  dpkg-deb -e "$DEB" "$dir"
  for s in preinst postrm; do
    [ -x "$dir/$s" ] || { echo "no executable $s"; false; }
    sh -n "$dir/$s"
    grep -q 'for a in fence_compute fence_evacuate fence_openstack fence_virsh; do' "$dir/$s"
    grep -q '"/usr/share/man/man8/$a.8.gz" "/usr/share/man/man8/$a.distrib.8.gz"' "$dir/$s"
  done
  grep -q 'dpkg-divert --package "$PKG" --rename --divert "$2" --add "$1"' "$dir/preinst"
  grep -q '^PKG=openstack-ha-agents$' "$dir/preinst"
}

@test "preinst and postrm in a scratch dpkg root (DPKG_ROOT): install diverts and renames, upgrade keeps, remove gives back" {
  # dpkg-divert works on DPKG_ROOT and DPKG_ADMINDIR: nothing of this machine's dpkg database is touched
  r="$BATS_TEST_TMPDIR/root"
  mkdir -p "$r/var/lib/dpkg/info" "$r/var/lib/dpkg/updates" "$r/usr/sbin" "$r/usr/share/man/man8"
  touch "$r/var/lib/dpkg/status" "$r/var/lib/dpkg/diversions"
  for a in fence_compute fence_evacuate fence_openstack fence_virsh; do echo "fence-agents $a" >"$r/usr/sbin/$a"; echo "man $a" >"$r/usr/share/man/man8/$a.8.gz"; done
  dpkg-deb -e "$DEB" "$r/ctl"
  export DPKG_ROOT="$r" DPKG_ADMINDIR="$r/var/lib/dpkg"
  sh -e "$r/ctl/preinst" install
  for a in fence_compute fence_evacuate fence_openstack fence_virsh; do
    [ "$(dpkg-divert --listpackage "/usr/sbin/$a")" = openstack-ha-agents ]
    [ "$(dpkg-divert --truename "/usr/sbin/$a")" = "/usr/sbin/$a.distrib" ]
    [ "$(dpkg-divert --truename "/usr/share/man/man8/$a.8.gz")" = "/usr/share/man/man8/$a.distrib.8.gz" ]
    [ "$(cat "$r/usr/sbin/$a.distrib")" = "fence-agents $a" ] && [ ! -e "$r/usr/sbin/$a" ]
    [ -e "$r/usr/share/man/man8/$a.distrib.8.gz" ] && [ ! -e "$r/usr/share/man/man8/$a.8.gz" ]
  done
  # an upgrade (new preinst upgrade, old postrm upgrade) keeps the eight diversions
  sh -e "$r/ctl/preinst" upgrade 0.0.1
  sh -e "$r/ctl/postrm" upgrade 0.0.2
  [ "$(dpkg-divert --list | grep -c 'by openstack-ha-agents$')" -eq 8 ]
  sh -e "$r/ctl/postrm" remove
  [ -z "$(dpkg-divert --list)" ]
  for a in fence_compute fence_evacuate fence_openstack fence_virsh; do
    [ "$(cat "$r/usr/sbin/$a")" = "fence-agents $a" ] && [ ! -e "$r/usr/sbin/$a.distrib" ]
    [ -e "$r/usr/share/man/man8/$a.8.gz" ] && [ ! -e "$r/usr/share/man/man8/$a.distrib.8.gz" ]
  done
  sh -e "$r/ctl/postrm" purge
  # a local diversion left by npm run install:agents is taken over without renaming
  dpkg-divert --local --rename --divert /usr/sbin/fence_compute.distrib --add /usr/sbin/fence_compute >/dev/null
  sh -e "$r/ctl/preinst" install
  [ "$(dpkg-divert --listpackage /usr/sbin/fence_compute)" = openstack-ha-agents ]
  [ "$(cat "$r/usr/sbin/fence_compute.distrib")" = "fence-agents fence_compute" ]
}

@test "the packaged man pages and binary are those of the build" {
  # (the tar stores the binary once and the other names as hard links to it: extract it all)
  dpkg-deb -x "$DEB" "$BATS_TEST_TMPDIR/root"
  cmp "$BATS_TEST_TMPDIR/root/usr/lib/openstack-ha-agents/openstack-ha-agents" "$BIN"
  [ "$BATS_TEST_TMPDIR/root/usr/sbin/fence_compute" -ef "$BATS_TEST_TMPDIR/root/usr/lib/openstack-ha-agents/openstack-ha-agents" ]
  "$BATS_TEST_TMPDIR/root/usr/sbin/fence_compute" -o metadata | grep -q '<resource-agent name="fence_compute"'
  dpkg-deb --fsys-tarfile "$DEB" | tar -xO ./usr/share/man/man8/fence_compute.8.gz | gzip -dc | grep -q '^\.SH EXIT STATUS'
}
