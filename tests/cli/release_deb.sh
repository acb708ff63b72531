#!/usr/bin/env bash
# The .deb scripts/release built (dist/): its files are where docs/INSTALL.md
# says, it depends on glibc (by dpkg-shlibdeps), adduser and openssh-client
# and on no library the programs link statically, lintian finds nothing
# (overrides justified in packaging/deb/lintian-overrides), and installed
# with `dpkg -i` it creates the switchyard group and a group-writable
# /var/lib/switchyard, starts nothing, and `dpkg -r` / `dpkg -P` keep the
# data.
#
# The install runs the host's own dpkg in a private mount namespace
# (unshare -m) whose /usr, /etc and /var are overlays discarded afterwards:
# the real maintainer scripts (addgroup) run against real paths, and the
# machine is untouched. (dpkg --root with --force-script-chrootless would
# need scripts written for DPKG_ROOT; a debootstrap chroot takes minutes.)
#
# Skips until `scripts/release` has built dist/ (scripts/release --check runs
# it after building).
set -euo pipefail

source_dir="${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}"
source "$source_dir/tests/support/cli_testing.sh"
release_dist
deb="$dist/switchyard_${version}_amd64.deb"
need_release_file "$deb"
need_tools "run scripts/setup --release" dpkg-deb lintian unshare
make_work_dir

(cd "$dist" && grep " $(basename "$deb")\$" SHA256SUMS | sha256sum --check --quiet) ||
  fail "$deb does not match $dist/SHA256SUMS"

# --- its files -----------------------------------------------------------------------
programs=(switchyard)
for main in "$source_dir"/steps/*/main.cpp; do
  programs+=("switchyard-$(basename "$(dirname "$main")")")
done
contents=$(dpkg-deb -c "$deb" | awk '{print $NF}')
for path in "${programs[@]/#/./usr/bin/}" "${programs[@]/#/./usr/share/man/man1/}" \
  ./usr/share/switchyard/nginx/router.js ./usr/share/doc/switchyard/copyright \
  ./usr/share/doc/switchyard/changelog.gz; do
  [[ "$path" == */man1/* ]] && path="$path.1.gz"
  grep -qxF "$path" <<<"$contents" || fail "$path is not in the package"
done
outside=$(grep -vE '^\./(usr/|$)' <<<"$contents" || true)
[[ -z "$outside" ]] || fail "files outside /usr: $outside"
echo "ok: the programs, man pages, router.js and copyright are under /usr"

# --- its dependencies ----------------------------------------------------------------
depends=$(dpkg-deb -f "$deb" Depends)
grep -qE '(^|, )libc6 \(>= 2\.[0-9]+\)' <<<"$depends" || fail "Depends names no libc6 version: $depends"
grep -qE '(^|, )adduser(,|$)' <<<"$depends" || fail "Depends lacks adduser (postinst runs addgroup): $depends"
if grep -qE 'libcurl|libboost|libssl|libyaml|libspdlog|libfmt|libstdc\+\+|libzip' <<<"$depends"; then
  fail "Depends names a library the programs link statically: $depends"
fi
echo "ok: Depends is $depends"

# --- lintian ----------------------------------------------------------------------------
# Errors and warnings fail; every override in the package is justified there.
if ! lintian --fail-on error,warning --tag-display-limit 0 "$deb" >"$work/lintian" 2>&1; then
  cat "$work/lintian" >&2
  fail "lintian reports the package (above)"
fi
grep -E '^[EW]: ' "$work/lintian" && fail "lintian warnings (above)"
echo "ok: lintian is clean ($(grep -c '^[IN]: ' "$work/lintian" || true) info notes)"

# --- installed on this machine's dpkg, in a namespace whose /usr, /etc and /var are discarded
if [[ $(id -u) != 0 ]] || ! unshare -m true 2>/dev/null; then
  echo "skipped: installing needs root for a private mount namespace (unshare -m)" >&2
  exit 125
fi
cat >"$work/in-namespace.sh" <<'EOF'
set -eu
work=$1 deb=$2
for dir in usr etc var; do
  mkdir -p "$work/$dir-upper" "$work/$dir-work"
  mount -t overlay overlay -o "lowerdir=/$dir,upperdir=$work/$dir-upper,workdir=$work/$dir-work" "/$dir"
done
# Anything the package starts would show as a new process of ours.
dpkg -i "$deb" >"$work/dpkg-i.log" 2>&1 || { cat "$work/dpkg-i.log"; echo "dpkg -i failed"; exit 1; }
echo "group $(getent group switchyard | cut -d: -f1)"
echo "state $(stat -c '%a %U:%G' /var/lib/switchyard)"
echo "version $(switchyard --version)"
echo "man $(man -w switchyard-verify-health 2>/dev/null || echo none)"
echo "router $(test -f /usr/share/switchyard/nginx/router.js && echo yes)"
echo "running $(pgrep -c -f '^/usr/bin/switchyard' || true)"
touch /var/lib/switchyard/state-of-a-service
dpkg -r switchyard >"$work/dpkg-r.log" 2>&1 || { cat "$work/dpkg-r.log"; echo "dpkg -r failed"; exit 1; }
echo "removed-binary $(test -e /usr/bin/switchyard && echo present || echo gone)"
echo "after-remove $(test -f /var/lib/switchyard/state-of-a-service && echo kept || echo lost)"
dpkg -P switchyard >"$work/dpkg-p.log" 2>&1 || { cat "$work/dpkg-p.log"; echo "dpkg -P failed"; exit 1; }
echo "after-purge $(test -f /var/lib/switchyard/state-of-a-service && echo kept || echo lost)"
echo "purge-says $(grep -c 'kept /var/lib/switchyard' "$work/dpkg-p.log")"
EOF
mkdir "$work/ns"
unshare -m bash "$work/in-namespace.sh" "$work/ns" "$deb" >"$work/report" 2>&1 ||
  { cat "$work/report" >&2; fail "installing in the namespace failed (above)"; }
expect() {
  grep -qxF "$1" "$work/report" || fail "expected '$1' after dpkg -i/-r/-P; got: $(cat "$work/report")"
}
expect "group switchyard"
expect "state 2775 root:switchyard"
expect "version switchyard $version"
expect "man /usr/share/man/man1/switchyard-verify-health.1.gz"
expect "router yes"
expect "running 0"
echo "ok: dpkg -i installs the programs and man pages, creates the switchyard group and /var/lib/switchyard (2775 root:switchyard), starts nothing"
expect "removed-binary gone"
expect "after-remove kept"
expect "after-purge kept"
expect "purge-says 1"
echo "ok: dpkg -r and dpkg -P keep /var/lib/switchyard, and purge says so"
[[ ! -e /var/lib/switchyard/state-of-a-service ]] || fail "the install reached the machine's /var/lib"
