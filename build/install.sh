#!/bin/bash
# Installs the multi-call binary and its agent names.
#
#   DESTDIR=/tmp/stage npm run install:agents     (DESTDIR empty or unset: the real root)
#
#   $DESTDIR/usr/lib/openstack-ha-agents/openstack-ha-agents        the binary, mode 0755
#   $DESTDIR/usr/lib/ocf/resource.d/openstack/<AGENT>               hard links, for OCF resource agents
#   $DESTDIR/usr/sbin/fence_*                                       hard links, for fence agents
#
# The agent names come from the built binary itself (`openstack-ha-agents --list`): names starting with fence_ go to
# /usr/sbin, the others to the OCF provider directory "openstack". Every file is replaced atomically (a temporary
# name in the same directory, then mv -f), so a cluster running the agents never sees a missing or partial file.
# Files that were not already ours (Debian's fence-agents ships /usr/sbin/fence_compute, fence_evacuate, fence_openstack and fence_virsh) are
# reported as replaced; when installing into / a packaged file is first diverted with dpkg-divert (kept as
# NAME.distrib), so that package upgrades don't overwrite our agent.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC="$ROOT/dist/openstack-ha-agents"
DESTDIR=${DESTDIR:-}
DESTDIR=${DESTDIR%/}
PREFIX=${PREFIX:-/usr}
PROGRAM=openstack-ha-agents
LIBDIR="$DESTDIR$PREFIX/lib/$PROGRAM"
OCFDIR="$DESTDIR$PREFIX/lib/ocf/resource.d/openstack"
SBINDIR="$DESTDIR$PREFIX/sbin"
BIN="$LIBDIR/$PROGRAM"

die() { echo "install: ERROR: $*" >&2; exit 1; }
note() { echo "install: $*"; }

[ -f "$SRC" ] || die "$SRC is missing: run npm run build first"
[ -x "$SRC" ] || die "$SRC is not executable: run npm run build again"

# the agent list, from the binary that is being installed
if ! LIST=$("$SRC" --list); then
  die "$SRC --list failed: run npm run build again"
fi
AGENTS=()
while IFS= read -r name; do
  [ -n "$name" ] || continue
  [[ $name =~ ^[A-Za-z0-9_.-]+$ ]] || die "unexpected agent name from $SRC --list: '$name'"
  AGENTS+=("$name")
done <<<"$LIST"
[ ${#AGENTS[@]} -gt 0 ] || die "$SRC --list printed no agents"

# describe an existing file that is about to be replaced: its owning package, if any
describe() {
  local f=$1 owner=''
  if [ -z "$DESTDIR" ] && command -v dpkg-query >/dev/null 2>&1; then
    owner=$(dpkg-query -S "$f" 2>/dev/null | head -n1 | cut -d: -f1 || true)
  fi
  if [ -L "$f" ]; then
    printf 'symlink to %s' "$(readlink "$f")"
  else
    printf '%s, %s bytes' "$(head -c 64 "$f" 2>/dev/null | head -n1 | grep -q '^#!' && echo script || echo file)" \
      "$(stat -c %s "$f")"
  fi
  [ -z "$owner" ] || printf ', from package %s' "$owner"
}

# 1. the binary (remember the one it replaces: links to it are ours and are updated silently)
old_id=$(stat -c '%d:%i' "$BIN" 2>/dev/null || true)
mkdir -p "$LIBDIR" "$OCFDIR" "$SBINDIR"
tmp="$LIBDIR/.$PROGRAM.tmp.$$"
trap 'rm -f "$tmp"' EXIT
install -m 0755 "$SRC" "$tmp"
if [ -e "$BIN" ] && cmp -s "$tmp" "$BIN"; then
  rm -f "$tmp"
  note "$BIN is up to date"
else
  mv -f "$tmp" "$BIN"
  note "installed $BIN ($(stat -c %s "$BIN") bytes)"
fi

# 2. one hard link per agent
for name in "${AGENTS[@]}"; do
  case $name in
    fence_*) dir=$SBINDIR ;;
    *) dir=$OCFDIR ;;
  esac
  dest="$dir/$name"
  if [ "$dest" -ef "$BIN" ] && [ ! -L "$dest" ]; then
    note "$dest: already linked"
    continue
  fi
  was=''
  if [ -e "$dest" ] || [ -L "$dest" ]; then
    # a hard link to the build installed before is just updated; anything else is worth telling
    if [ -L "$dest" ] || [ -z "$old_id" ] || [ "$(stat -c '%d:%i' "$dest")" != "$old_id" ]; then
      was=$(describe "$dest")
    fi
  fi
  # a file of a Debian package (fence-agents ships fence_compute, fence_evacuate, fence_openstack and fence_virsh): divert it, so that the
  # package keeps its copy as NAME.distrib and its upgrades never overwrite ours
  if [ -z "$DESTDIR" ] && [ -n "$was" ] && command -v dpkg-divert >/dev/null 2>&1 \
     && dpkg-query -S "$dest" >/dev/null 2>&1 && [ "$(dpkg-divert --listpackage "$dest")" != LOCAL ]; then
    dpkg-divert --local --rename --divert "$dest.distrib" --add "$dest" >/dev/null
    note "diverted the packaged $dest to $dest.distrib"
    was="$was, kept as $dest.distrib"
  fi
  tmp="$dir/.$name.tmp.$$"
  rm -f "$tmp"
  ln "$BIN" "$tmp" || die "cannot hard link $BIN to $tmp (different file systems?)"
  mv -f "$tmp" "$dest"
  if [ -n "$was" ]; then
    note "REPLACED $dest (was: $was) -> hard link to $BIN"
  else
    note "linked $dest -> $BIN"
  fi
done
trap - EXIT
note "done: ${#AGENTS[@]} agents under ${DESTDIR:-/}"
