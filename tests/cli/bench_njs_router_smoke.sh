#!/usr/bin/env bash
# A one-second run of bench/njs-router.sh, so the benchmark cannot rot: the
# router must route every request (no failure) through a private nginx.
set -euo pipefail
for tool in wrk nginx /usr/bin/python3 curl; do
  command -v "$tool" >/dev/null || { echo "skipped: $tool not found (apt-get install -y wrk nginx curl)"; exit 125; }
done
[[ -f /usr/lib/nginx/modules/ngx_http_js_module.so ]] || {
  echo "skipped: libnginx-mod-http-js not installed"
  exit 125
}
out=$("${SWITCHYARD_SOURCE_DIR:?}/bench/njs-router.sh" --duration 1 --rounds 1 --connections 10)
echo "$out"
grep -q "failed requests: 0$" <<<"$out"
