#!/bin/bash
# Builds the Debian and RPM packages from one staged tree (build/install.sh with DESTDIR, plus man pages and docs):
#
#   npm run package            (runs npm run build first when dist/openstack-ha-agents is missing)
#   PKG_VERSION=0.1.0+test1 npm run package      another package version (default: package.json's version)
#   PKG_COMPRESS=gzip npm run package             faster, larger (default: xz, which takes minutes)
#
#   dist/openstack-ha-agents_VERSION_amd64.deb       dpkg-deb; Depends: pacemaker-cli-utils; maintainer scripts in
#                                                    packaging/ divert fence-agents' fence_compute, fence_evacuate,
#                                                    fence_openstack, fence_virsh
#   dist/openstack-ha-agents-VERSION.x86_64.rpm      rpmbuild (Debian's rpm package); Conflicts: fence-agents-compute,
#                                                    fence-agents-openstack, fence-agents-virsh
#
# Needs: dpkg-deb, rpmbuild, gzip (bash test/package/deps.sh installs them, as root). Reproducible: file dates are
# SOURCE_DATE_EPOCH, by default the date of the last commit.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
NAME=openstack-ha-agents
BIN=dist/$NAME
die() { echo "package: ERROR: $*" >&2; exit 1; }
note() { echo "package: $*"; }

for t in dpkg-deb rpmbuild gzip; do
  command -v "$t" >/dev/null || die "$t is missing: run bash test/package/deps.sh as root (installs dpkg, rpm, gzip)"
done
if [ ! -x "$BIN" ]; then
  note "$BIN missing: npm run build"
  npm run -s build
fi
VERSION=${PKG_VERSION:-$(node -p 'require("./package.json").version')}
[[ $VERSION =~ ^[0-9][A-Za-z0-9.+~]*$ ]] || die "bad version '$VERSION' (digits, letters, . + ~; no -)"
# compression: xz (default, smaller) or gzip (several times faster; the tests use it)
case ${PKG_COMPRESS:=xz} in
  xz) DEB_Z=(-Zxz -z6); RPM_PAYLOAD=w6.xzdio ;;
  gzip) DEB_Z=(-Zgzip -z6); RPM_PAYLOAD=w6.gzdio ;;
  *) die "PKG_COMPRESS must be xz or gzip, not '$PKG_COMPRESS'" ;;
esac
MAINTAINER=${PKG_MAINTAINER:-"openstack-ha-agents developers <openstack-ha-agents@localhost>"}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/$NAME-package.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
STAGE=$WORK/stage

# 1. the staged tree: binary and hard links, man pages (gzipped), copyright and changelog
DESTDIR=$STAGE bash build/install.sh >"$WORK/install.log" || { cat "$WORK/install.log" >&2; die "build/install.sh failed"; }
node build/manpages.mjs --bin "$BIN" "$STAGE/usr/share/man" >/dev/null
gzip -9n "$STAGE"/usr/share/man/man*/*
DOC=$STAGE/usr/share/doc/$NAME
install -d "$DOC"
install -m 0644 packaging/copyright "$DOC/copyright"
{
  printf '%s (%s) unstable; urgency=medium\n\n' "$NAME" "$VERSION"
  git log -20 --format='  * %s' 2>/dev/null | cut -c1-100 || echo '  * Release.'
  printf '\n -- %s  %s\n' "$MAINTAINER" "$(date -R -u -d "@$SOURCE_DATE_EPOCH")"
} >"$DOC/changelog"
gzip -9n "$DOC/changelog"
find "$STAGE" -depth -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
chmod -R u+rwX,go+rX,go-w "$STAGE"

# the payload's files (not directories), for both packages
(cd "$STAGE" && find . ! -type d | sed 's|^\.||' | LC_ALL=C sort) >"$WORK/files"
# directories that are ours alone
OWN_DIRS=("/usr/lib/$NAME" /usr/lib/ocf/resource.d/openstack "/usr/share/doc/$NAME")

# 2. Debian
DEB=$WORK/deb
cp -a "$STAGE" "$DEB"
install -d -m 0755 "$DEB/DEBIAN"
(cd "$DEB" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$DEB/DEBIAN/md5sums"
chmod 0644 "$DEB/DEBIAN/md5sums"
cat >"$DEB/DEBIAN/control" <<CONTROL
Package: $NAME
Version: $VERSION
Architecture: amd64
Maintainer: $MAINTAINER
Installed-Size: $(du -sk --exclude=DEBIAN "$DEB" | cut -f1)
Depends: pacemaker-cli-utils
Suggests: pcs
Section: admin
Priority: optional
Description: Pacemaker resource and fence agents for a highly available OpenStack
 OCF resource agents (ocf:openstack:NovaEvacuate, nova-compute-wait, NovaCompute and control-plane services) and the fence
 agents fence_compute and fence_evacuate, for instance HA: when a compute node fails, Pacemaker fences it and
 its instances are evacuated to the other compute nodes; fence_openstack, for Nova servers (guest clusters);
 fence_virsh, for libvirt domains over SSH. One standalone executable (Node.js is built in).
 .
 fence-agents' own fence_compute, fence_evacuate, fence_openstack and fence_virsh are diverted to
 /usr/sbin/NAME.distrib while this package is installed.
CONTROL
install -m 0755 packaging/preinst packaging/postrm "$DEB/DEBIAN/"
mkdir -p dist
DEBFILE=dist/${NAME}_${VERSION}_amd64.deb
dpkg-deb --root-owner-group "${DEB_Z[@]}" --build "$DEB" "$DEBFILE" >/dev/null
note "built $DEBFILE ($(stat -c %s "$DEBFILE") bytes)"
rm -rf "$DEB"

# 3. RPM, from the same staged tree
RPMTOP=$WORK/rpm
mkdir -p "$RPMTOP"/{BUILD,RPMS,SPECS,SOURCES,SRPMS}
{
  cat <<SPEC
Name: $NAME
Version: ${VERSION//-/_}
Release: 1
Summary: Pacemaker resource and fence agents for a highly available OpenStack
License: Apache-2.0
BuildArch: x86_64
AutoReqProv: no
Requires: pacemaker-cli
Conflicts: fence-agents-compute
Conflicts: fence-agents-openstack
Conflicts: fence-agents-virsh
%global debug_package %{nil}
%global __os_install_post %{nil}
%global _build_id_links none
%global _binary_payload $RPM_PAYLOAD

%description
OCF resource agents (ocf:openstack:NovaEvacuate, nova-compute-wait, NovaCompute and control-plane services) and the fence
agents fence_compute, fence_evacuate, fence_openstack and fence_virsh, in one standalone executable. Conflicts with
fence-agents-compute, fence-agents-openstack and fence-agents-virsh, whose /usr/sbin/fence_compute, fence_evacuate,
fence_openstack and fence_virsh it replaces.

%install
cp -a "$STAGE/." %{buildroot}/

%files
%defattr(-,root,root,-)
SPEC
  for d in "${OWN_DIRS[@]}"; do echo "%dir $d"; done
  while IFS= read -r f; do
    case $f in
      "/usr/share/doc/$NAME/copyright") echo "%license $f" ;;
      /usr/share/doc/*) echo "%doc $f" ;;
      /usr/share/man/*) echo "%doc $f" ;;
      *) echo "$f" ;;
    esac
  done <"$WORK/files"
} >"$RPMTOP/SPECS/$NAME.spec"
rpmbuild -bb --quiet --define "_topdir $RPMTOP" --define "_rpmdir $RPMTOP/RPMS" --define '_build_name_fmt %%{NAME}-%%{VERSION}.%%{ARCH}.rpm' \
  --dbpath "$WORK/rpmdb" "$RPMTOP/SPECS/$NAME.spec" >"$WORK/rpmbuild.log" 2>&1 \
  || { tail -30 "$WORK/rpmbuild.log" >&2; die "rpmbuild failed"; }
RPMFILE=dist/$NAME-${VERSION//-/_}.x86_64.rpm
mv -f "$RPMTOP/RPMS/$NAME-${VERSION//-/_}.x86_64.rpm" "$RPMFILE"
note "built $RPMFILE ($(stat -c %s "$RPMFILE") bytes)"
