#!/bin/bash
# Installs what npm run package and its tests need (dpkg-deb is in dpkg; rpmbuild in rpm; man and groff for
# man --warnings), with apt-get, only when something is missing. Needs root when something is missing.
#   bash test/package/deps.sh
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../rig/lib.sh
. "$HERE/../rig/lib.sh"
PACKAGES=(rpm man-db groff-base gzip)
mapfile -t missing < <(apt_missing "${PACKAGES[@]}")
[ ${#missing[@]} -eq 0 ] && exit 0
apt_install "package deps" "${TMPDIR:-/tmp}/openstack-ha-agents-package-deps.log" "${missing[@]}"
