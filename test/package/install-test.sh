#!/bin/bash
# Install test of the packages, as root on a bare Debian 12 (e.g. inside ../shared/tools/clean-room; it changes the
# system: it installs pacemaker, pcs, fence-agents, man-db and our package, then removes ours):
#
#   npm ci && npm run build && npm run package && bash test/package/install-test.sh
#   (.ci/package-in-clean-room runs this sequence, timed)
#
# Builds the packages (PKG_COMPRESS=gzip) unless dist/ has them, then checks:
#  0. rpm -qlp lists the same files as dpkg-deb -c;
#  1. apt-get install ./dist/openstack-ha-agents_VERSION_amd64.deb, with fence-agents installed first: its
#     fence_compute, fence_evacuate, fence_openstack and fence_virsh (and their man pages) are diverted to NAME.distrib, ours are in place;
#  2. pcs resource describe ocf:openstack:NovaEvacuate, pcs stonith describe fence_compute, man fence_compute and
#     man ocf_openstack_NovaEvacuate work;
#  3. an upgrade to VERSION+test1 keeps the diversions and our agents;
#  4. dpkg -r then dpkg -P give fence-agents its agents back and leave nothing behind (dpkg -L, dpkg-divert --list,
#     files);
#  5. rpm -i --nodeps --root SCRATCH of the .rpm installs its files.
# Exits non-zero with a message on the first failure.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
NAME=openstack-ha-agents
STEP=setup
fail() { echo "install-test: FAILED in step '$STEP': $*" >&2; exit 1; }
step() { STEP=$1; echo "install-test: == $1"; }
EXCLUDES=()   # dpkg's path-exclude files set aside (below), put back on exit
on_exit() {
  local rc=$? f
  for f in "${EXCLUDES[@]}"; do mv -f "$f.install-test" "$f"; done
  [ $rc -eq 0 ] || echo "install-test: FAILED in step '$STEP' (exit $rc)" >&2
}
trap on_exit EXIT

[ "$(id -u)" -eq 0 ] || fail "run as root, on a scratch Debian 12 (it installs and removes packages)"
[ -r /etc/debian_version ] || fail "not Debian"
export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 MANWIDTH=80
APT=(apt-get -y -q -o DPkg::Lock::Timeout=600)

step "packages the test needs (pacemaker, pcs, fence-agents, man-db, rpm)"
"${APT[@]}" update >/dev/null
"${APT[@]}" install --no-install-recommends pacemaker pacemaker-cli-utils pcs fence-agents man-db groff-base rpm \
  >/tmp/install-test-apt.log 2>&1 || { tail -20 /tmp/install-test-apt.log >&2; fail "apt-get install failed"; }
# a minimal image may tell dpkg not to install man pages (path-exclude in /etc/dpkg/dpkg.cfg.d): this scratch root
# is made to install them, for the man checks below (the exclusion is put back at the end)
for f in /etc/dpkg/dpkg.cfg.d/*; do
  if [ -f "$f" ] && grep -q '^path-exclude.*/usr/share/man' "$f"; then EXCLUDES+=("$f"); fi
done
if [ ${#EXCLUDES[@]} -gt 0 ]; then
  echo "install-test: dpkg excludes man pages here (${EXCLUDES[*]}): set aside during the test"
  for f in "${EXCLUDES[@]}"; do mv "$f" "$f.install-test"; done
  "${APT[@]}" install --reinstall fence-agents >/tmp/install-test-apt.log 2>&1 || { tail -20 /tmp/install-test-apt.log >&2; fail "apt-get install --reinstall fence-agents failed"; }
fi
DIVERTED=(/usr/sbin/fence_compute /usr/sbin/fence_evacuate /usr/sbin/fence_openstack /usr/sbin/fence_virsh
  /usr/share/man/man8/fence_compute.8.gz /usr/share/man/man8/fence_evacuate.8.gz /usr/share/man/man8/fence_openstack.8.gz
  /usr/share/man/man8/fence_virsh.8.gz)
distrib() { case $1 in *.8.gz) echo "${1%.8.gz}.distrib.8.gz" ;; *) echo "$1.distrib" ;; esac; }
declare -A orig_sum
for f in "${DIVERTED[@]}"; do
  [ -f "$f" ] || fail "fence-agents does not ship $f: nothing to divert"
  dpkg-query -S "$f" | grep -q '^fence-agents' || fail "$f is not fence-agents' file: $(dpkg-query -S "$f" 2>&1)"
  orig_sum[$f]=$(md5sum <"$f")
done

VERSION=$(node -p 'require("./package.json").version' 2>/dev/null || true)
[ -n "$VERSION" ] || VERSION=$(sed -n 's/^ *"version": "\(.*\)",$/\1/p' package.json | head -1)
DEB=dist/${NAME}_${VERSION}_amd64.deb
DEB2=dist/${NAME}_${VERSION}+test1_amd64.deb
RPM=dist/$NAME-$VERSION.x86_64.rpm
step "build the packages ($VERSION and $VERSION+test1)"
if [ ! -f "$DEB" ] || [ ! -f "$RPM" ]; then PKG_COMPRESS=gzip bash build/package.sh || fail "build/package.sh failed"; fi
if [ ! -f "$DEB2" ]; then PKG_COMPRESS=gzip PKG_VERSION=$VERSION+test1 bash build/package.sh || fail "build/package.sh (+test1) failed"; fi
dpkg --compare-versions "$VERSION+test1" gt "$VERSION" || fail "$VERSION+test1 is not higher than $VERSION"

step "rpm -qlp lists the same files as dpkg-deb -c"
# files (not directories) of the .deb; rpm -qlp also lists the directories the rpm owns: dropped
deb_dirs=$(dpkg-deb -c "$DEB" | awk '$1 ~ /^d/ { print $6 }' | sed 's|^\./|/|; s|/$||' | LC_ALL=C sort)
deb_files=$(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\./|/|' | LC_ALL=C sort)
rpm_files=$(rpm -qlp "$RPM" | LC_ALL=C sort | LC_ALL=C comm -23 - <(echo "$deb_dirs"))
[ "$deb_files" = "$rpm_files" ] || fail "file lists differ: $(diff <(echo "$deb_files") <(echo "$rpm_files"))"
[ "$(wc -l <<<"$deb_files")" -ge 20 ] || fail "only $(wc -l <<<"$deb_files") files in $DEB"

# check_installed: our agents and man pages in place, fence-agents' kept as NAME.distrib under diversions owned by our
# package
check_installed() {
  local f d
  dpkg-query -W -f='${db:Status-Status}' "$NAME" | grep -qx installed || fail "$NAME is not installed"
  for f in "${DIVERTED[@]}"; do
    d=$(distrib "$f")
    [ "$(dpkg-divert --listpackage "$f")" = "$NAME" ] || fail "$f is not diverted by $NAME: $(dpkg-divert --list "$f")"
    [ "$(dpkg-divert --truename "$f")" = "$d" ] || fail "$f is diverted to $(dpkg-divert --truename "$f"), not $d"
    [ -f "$d" ] || fail "$d (fence-agents' copy) is missing"
    [ "$(md5sum <"$d")" = "${orig_sum[$f]}" ] || fail "$d is not fence-agents' file"
    [ "$(md5sum <"$f")" != "${orig_sum[$f]}" ] || fail "$f is still fence-agents' file"
  done
  for f in /usr/sbin/fence_compute /usr/sbin/fence_evacuate /usr/sbin/fence_openstack /usr/sbin/fence_virsh; do
    [ "$f" -ef /usr/lib/$NAME/$NAME ] || fail "$f is not our binary (hard link)"
  done
  /usr/sbin/fence_compute -o metadata | grep -q '<resource-agent name="fence_compute"' || fail "fence_compute -o metadata"
  /usr/lib/ocf/resource.d/openstack/NovaEvacuate meta-data | grep -q '<resource-agent name="NovaEvacuate"' \
    || fail "NovaEvacuate meta-data"
}

step "apt-get install ./$DEB"
"${APT[@]}" install "./$DEB" >/tmp/install-test-deb.log 2>&1 || { tail -20 /tmp/install-test-deb.log >&2; fail "apt-get install ./$DEB failed"; }
check_installed

step "pcs describe and man"
out=$(pcs resource describe ocf:openstack:NovaEvacuate 2>&1) || fail "pcs resource describe failed: $out"
grep -q 'auth_url' <<<"$out" || fail "pcs resource describe shows no auth_url: $out"
out=$(pcs stonith describe fence_compute 2>&1) || fail "pcs stonith describe failed: $out"
grep -q 'record_only' <<<"$out" || fail "pcs stonith describe shows no record_only (fence-agents' agent?): $out"
for page in fence_compute ocf_openstack_NovaEvacuate fence_evacuate fence_openstack fence_virsh ocf_openstack_NovaCompute; do
  out=$(man "$page" 2>&1) || fail "man $page failed: $out"
  grep -q 'EXIT STATUS' <<<"$out" || fail "man $page is not ours: $(head -5 <<<"$out")"
  w=$(man --warnings "$page" 2>&1 >/dev/null) || fail "man --warnings $page failed: $w"
  [ -z "$w" ] || fail "man --warnings $page: $w"
done
[ "$(man -w fence_compute)" = /usr/share/man/man8/fence_compute.8.gz ] || fail "man -w fence_compute: $(man -w fence_compute)"

step "upgrade to $VERSION+test1 keeps the diversions"
"${APT[@]}" install "./$DEB2" >/tmp/install-test-deb2.log 2>&1 || { tail -20 /tmp/install-test-deb2.log >&2; fail "upgrade failed"; }
[ "$(dpkg-query -W -f='${Version}' "$NAME")" = "$VERSION+test1" ] || fail "version after upgrade: $(dpkg-query -W -f='${Version}' "$NAME")"
check_installed
step "fence-agents reinstalled while we are installed: its files still go to NAME.distrib"
"${APT[@]}" install --reinstall fence-agents >/tmp/install-test-fa.log 2>&1 || { tail -20 /tmp/install-test-fa.log >&2; fail "reinstall fence-agents failed"; }
check_installed

step "dpkg -r restores fence-agents' agents and man pages"
files=$(dpkg -L "$NAME" | while read -r f; do [ -d "$f" ] || echo "$f"; done)
dpkg -r "$NAME" >/dev/null || fail "dpkg -r failed"
for f in "${DIVERTED[@]}"; do
  [ -z "$(dpkg-divert --list "$f")" ] || fail "diversion left after dpkg -r: $(dpkg-divert --list "$f")"
  [ -f "$f" ] || fail "$f missing after dpkg -r (fence-agents' copy not restored)"
  [ ! -e "$(distrib "$f")" ] || fail "$(distrib "$f") left after dpkg -r"
  [ "$(md5sum <"$f")" = "${orig_sum[$f]}" ] || fail "$f after dpkg -r is not fence-agents' file"
done
head -c 2 /usr/sbin/fence_compute | grep -q '#!' || fail "/usr/sbin/fence_compute is not fence-agents' script after dpkg -r"
[ "$(man -w fence_compute)" = /usr/share/man/man8/fence_compute.8.gz ] || fail "man -w fence_compute after dpkg -r: $(man -w fence_compute)"
v=$(dpkg --verify fence-agents 2>&1 || true); [ -z "$v" ] || fail "dpkg --verify fence-agents: $v"

step "dpkg -P leaves nothing behind"
dpkg -P "$NAME" >/dev/null || fail "dpkg -P failed"
st=$(dpkg-query -W -f='${db:Status-Status}' "$NAME" 2>/dev/null || true)
[ -z "$st" ] || [ "$st" = not-installed ] || fail "$NAME still known to dpkg: $st"
if dpkg -L "$NAME" >/dev/null 2>&1; then fail "dpkg -L $NAME still lists files"; fi
dpkg-divert --list | grep -q "$NAME" && fail "diversions of $NAME left: $(dpkg-divert --list | grep "$NAME")"
while IFS= read -r f; do
  case " ${DIVERTED[*]} " in *" $f "*) continue ;; esac   # fence-agents' again
  [ ! -e "$f" ] || fail "$f left after dpkg -P"
done <<<"$files"
for d in /usr/lib/$NAME /usr/lib/ocf/resource.d/openstack /usr/share/doc/$NAME; do
  [ ! -e "$d" ] || fail "$d left after dpkg -P"
done

step "rpm -i --nodeps --root of $RPM"
SCRATCH=$(mktemp -d /tmp/install-test-rpmroot.XXXXXX)
rpm --root "$SCRATCH" --initdb || fail "rpm --initdb failed"
rpm -i --nodeps --root "$SCRATCH" "$PWD/$RPM" || fail "rpm -i --root $SCRATCH failed"
rpm --root "$SCRATCH" -q "$NAME" || fail "rpm -q $NAME in $SCRATCH"
[ "$SCRATCH/usr/sbin/fence_compute" -ef "$SCRATCH/usr/lib/$NAME/$NAME" ] || fail "rpm: fence_compute is not a hard link to the binary"
"$SCRATCH/usr/lib/ocf/resource.d/openstack/NovaEvacuate" meta-data | grep -q '<resource-agent name="NovaEvacuate"' \
  || fail "rpm: NovaEvacuate meta-data"
rpm --root "$SCRATCH" -V --nodeps "$NAME" || fail "rpm -V reports changed files"   # (--nodeps: pacemaker-cli is not in SCRATCH)
rpm -e --nodeps --root "$SCRATCH" "$NAME" || fail "rpm -e failed"
[ ! -e "$SCRATCH/usr/lib/$NAME/$NAME" ] || fail "rpm -e left the binary"
rm -rf "$SCRATCH"

STEP=finished
echo "install-test: all checks passed"
