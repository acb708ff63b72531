#!/usr/bin/env bash
# The release tarball scripts/release built (dist/): unpacked into an empty
# directory and run with an empty environment (`env -i`), every executable
# answers --version and --help, and the dispatcher reaches every step beside
# it; each loads glibc alone (ldd) at GLIBC <= 2.35; the man pages, router.js
# and licences are there; and a TLS request (verify-health against this
# test's TLS server) succeeds once the server's CA is in the system store and
# fails before, so the static libcurl and OpenSSL find the system's
# certificates. The CA goes into a copy of /etc/ssl/certs bind-mounted in a
# private mount namespace (unshare -m): the machine's store is untouched.
#
# The static build takes minutes, so the test command does not make one: this
# skips until `scripts/release` has built dist/ (scripts/release --check runs
# it after building).
set -euo pipefail

source_dir="${SWITCHYARD_SOURCE_DIR:?set SWITCHYARD_SOURCE_DIR to the source root}"
source "$source_dir/tests/support/cli_testing.sh"
release_dist
name="switchyard-$version-linux-x86_64"
tarball="$dist/$name.tar.gz"
need_release_file "$tarball"

make_work_dir

# --- its SHA256SUMS line matches ---------------------------------------------------
(cd "$dist" && grep " $name.tar.gz\$" SHA256SUMS | sha256sum --check --quiet) ||
  fail "$tarball does not match $dist/SHA256SUMS"

# --- unpacked into an empty directory: one top-level directory, owned by root -------
mkdir "$work/unpacked"
owners=$(tar --numeric-owner -tvzf "$tarball" | awk '{print $2}' | sort -u)
[[ "$owners" == 0/0 ]] || fail "entries not owned by 0/0 (root): $(tr '\n' ' ' <<<"$owners")"
tar -xzf "$tarball" -C "$work/unpacked"
[[ "$(ls "$work/unpacked")" == "$name" ]] || fail "the tarball's top level is '$(ls "$work/unpacked")', not $name"
root="$work/unpacked/$name"

programs=(switchyard)
for main in "$source_dir"/steps/*/main.cpp; do
  programs+=("switchyard-$(basename "$(dirname "$main")")")
done
for program in "${programs[@]}"; do
  [[ -x "$root/bin/$program" ]] || fail "bin/$program is missing"
  [[ -f "$root/share/man/man1/$program.1" ]] || fail "share/man/man1/$program.1 is missing"
done
[[ -f "$root/share/switchyard/nginx/router.js" ]] || fail "share/switchyard/nginx/router.js is missing"
for licence in curl libssl libboost1.81 zlib1g libyaml-cpp libspdlog libfmt libcli11; do
  [[ -s "$root/share/doc/switchyard/licenses/$licence" ]] || fail "share/doc/switchyard/licenses/$licence is missing"
done
for file in "$root"/bin/*; do
  [[ " ${programs[*]} " == *" $(basename "$file") "* ]] || fail "bin/$(basename "$file") is no step in steps/"
done
echo "ok: the tarball holds bin/, the man pages, router.js and the licences, owned by root"

# --- every executable, with an empty environment -----------------------------------
for program in "${programs[@]}"; do
  out=$(cd "$work" && env -i "$root/bin/$program" --version) || fail "$program --version exited $? under env -i"
  [[ "$out" == "$program $version" ]] || fail "$program --version printed '$out', not '$program $version'"
  help=$(cd "$work" && env -i "$root/bin/$program" --help) || fail "$program --help exited $? under env -i"
  grep -q 'Exit codes\|exit codes\|EXIT' <<<"$help" || fail "$program --help lists no exit codes: $help"
  if [[ "$program" != switchyard ]]; then
    out=$(cd "$work" && env -i "$root/bin/switchyard" "${program#switchyard-}" --version) ||
      fail "switchyard ${program#switchyard-} --version exited $? under env -i"
    [[ "$out" == "$program $version" ]] || fail "switchyard ${program#switchyard-} --version printed '$out'"
  fi
done
echo "ok: every executable answers --version and --help under env -i, and the dispatcher reaches each step"

# --- glibc alone, no newer than Ubuntu 22.04's ---------------------------------------
for program in "${programs[@]}"; do
  libraries=$(ldd "$root/bin/$program" | awk '{print $1}' | sed 's|.*/||' | sort -u)
  others=$(grep -vxE 'linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|ld-linux-x86-64\.so\.2' <<<"$libraries" || true)
  [[ -z "$others" ]] || fail "$program loads more than glibc: $others"
  newest=$(objdump -T "$root/bin/$program" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -1)
  [[ "$(printf '%s\n' "$newest" 2.35 | sort -V | tail -1)" == 2.35 ]] || fail "$program needs GLIBC_$newest, newer than 2.35"
done
echo "ok: ldd shows glibc alone, at GLIBC <= 2.35, for every executable"

# --- TLS against the system's certificate store ---------------------------------------
for tool in openssl python3 unshare mount; do
  command -v "$tool" >/dev/null 2>&1 || { echo "skipped: the TLS check needs $tool" >&2; exit 125; }
done
if [[ $(id -u) != 0 ]] || ! unshare -m true 2>/dev/null; then
  echo "skipped: the TLS check needs root for a private mount namespace (unshare -m)" >&2
  exit 125
fi
[[ -f /etc/ssl/certs/ca-certificates.crt ]] || { echo "skipped: no /etc/ssl/certs/ca-certificates.crt (ca-certificates)" >&2; exit 125; }
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
python3 "$source_dir/tests/support/test_server.py" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" \
  >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do
  grep -q '^PORT ' "$work/server.out" && break
  sleep 0.05
done
port=$(sed -n 's/^PORT //p' "$work/server.out")
[[ -n "$port" ]] || fail "the test's TLS server did not start: $(cat "$work/server.err")"
url="https://127.0.0.1:$port/health"

# Without the CA: the certificate is refused (so the check below can fail).
set +e
env -i "$root/bin/switchyard-verify-health" --timeout 2s "$url" >"$work/out" 2>"$work/err"
status=$?
set -e
((status == 1)) || fail "without the CA in the store: verify-health exited $status, expected 1: $(cat "$work/err")"
grep -qi 'certificate' "$work/err" || fail "without the CA in the store: the error names no certificate: $(cat "$work/err")"

# With it, in a copy of the store seen only inside the namespace.
cp -a /etc/ssl/certs "$work/certs"
cat "$work/cert.pem" >>"$work/certs/ca-certificates.crt"
before=$(sha256sum /etc/ssl/certs/ca-certificates.crt)
set +e
# shellcheck disable=SC2016 # expanded by the inner shell, from its arguments
unshare -m sh -c 'mount --bind "$1" /etc/ssl/certs && exec env -i "$2" --timeout 5s "$3"' \
  sh "$work/certs" "$root/bin/switchyard-verify-health" "$url" >"$work/out" 2>"$work/err"
status=$?
set -e
((status == 0)) || fail "with the CA in the system store: verify-health exited $status: $(cat "$work/err")"
[[ "$(sha256sum /etc/ssl/certs/ca-certificates.crt)" == "$before" ]] || fail "the machine's certificate store changed"
echo "ok: a TLS request verifies against the system's certificate store (and fails without the CA)"
