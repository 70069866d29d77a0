#!/usr/bin/env bash
# The Debian package of this build: `cpack -G DEB`, its control data and
# contents (dpkg-deb), every dependency an installed Debian package, then an
# install into a scratch root (dpkg --root, no chroot, no network) where
# kvtool --help runs and the man page and kvstore.pc are in place.
#   deb_test.sh BUILD_DIR WORK_DIR DRIVER...
set -euo pipefail
build=$1 work=$2; shift 2
drivers=("$@")
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"
SECONDS=0
(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" > "$work/cpack.log" 2>&1) ||
  fail "cpack: $(tail -20 "$work/cpack.log")"
deb=$(ls "$work"/out/*.deb)
[[ $(wc -w <<< "$deb") == 1 ]] || fail "expected one .deb, got: $deb"
echo "built $(basename "$deb") in ${SECONDS}s"

dpkg-deb --info "$deb" > "$work/info"
dpkg-deb --contents "$deb" > "$work/contents"
depends=$(sed -n 's/^ Depends: //p' "$work/info")
[[ -n "$depends" ]] || fail "no Depends: $(cat "$work/info")"
echo "Depends: $depends"
declare -A client=([sqlite]=libsqlite3-0 [redis]=libhiredis0.14 [postgres]=libpq5 [mysql]=libmysqlcppconn7v5)
for driver in "${drivers[@]}"; do
  [[ -n "${client[$driver]:-}" ]] || continue
  grep -q "${client[$driver]}" <<< "$depends" || fail "Depends lacks ${client[$driver]} for the $driver driver"
done
[[ " ${drivers[*]} " != *" postgres "* ]] || grep -q 'libpqxx' <<< "$depends" || fail "Depends lacks libpqxx"
# Every dependency names a package Debian 12 has (here: installed).
tr ',' '\n' <<< "$depends" | sed 's/^ *//; s/ .*//; s/|.*//' | while read -r package; do
  [[ -z "$package" ]] && continue
  dpkg-query -W -f='${Status}\n' "$package" 2> /dev/null | grep -q "install ok installed" ||
    fail "dependency $package is not an installed Debian package"
done
for path in ./usr/bin/kvtool ./usr/include/kvstore/kvstore.h ./usr/lib/libkvstore_core.a \
  ./usr/lib/pkgconfig/kvstore.pc ./usr/lib/cmake/kvstore/kvstoreConfig.cmake ./usr/share/man/man1/kvtool.1; do
  grep -q " $path\(\.gz\)\?$" "$work/contents" || fail "the package lacks $path"
done

# Install into an empty root: dpkg's own database there, dependencies not
# present in it (they are checked above against the host's).
root="$work/root"
mkdir -p "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/info"
touch "$root/var/lib/dpkg/status"
dpkg --root="$root" --log=/dev/null --force-depends --force-script-chrootless -i "$deb" > "$work/dpkg.log" 2>&1 ||
  fail "dpkg -i: $(cat "$work/dpkg.log")"
dpkg --root="$root" -s kvstore | grep -q "Status: install ok installed" || fail "not installed in the scratch root"
"$root/usr/bin/kvtool" --help > "$work/help" || fail "the installed kvtool --help exited $?"
grep -q "export" "$work/help" || fail "kvtool --help: $(cat "$work/help")"
"$root/usr/bin/kvtool" set "sqlite:$work/x.db" k '{"from":"deb"}' 2> /dev/null ||
  [[ " ${drivers[*]} " != *" sqlite "* ]] || fail "the installed kvtool cannot use sqlite"
PKG_CONFIG_PATH="$root/usr/lib/pkgconfig" pkg-config --modversion kvstore > /dev/null ||
  fail "the installed kvstore.pc does not parse"
echo "deb test passed in ${SECONDS}s"
