#!/usr/bin/env bash
# What the seamless router costs per request: wrk through a private nginx to
# the same loopback backend, once with a fixed upstream (what reload mode
# serves between switches) and once through the njs router (seamless mode:
# js_set reads the live-port file on every request). Rounds alternate, so both
# see the same machine load. The backend is a third nginx server block
# answering a fixed body, fast enough that the proxying is what is measured.
#
# Usage: bench/njs-router.sh [--duration SECONDS] [--rounds N] [--connections N]
# Prints one line per round and a summary (median requests/s and p99 of each,
# and their ratio). Never touches the system nginx.
set -euo pipefail

duration=5 rounds=5 connections=50
while (($#)); do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    *) echo "bench/njs-router.sh: unknown option $1; use --duration, --rounds, --connections" >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
router=$root/runner/host/nginx/router.js
module=${SWITCHYARD_NJS_MODULE:-/usr/lib/nginx/modules/ngx_http_js_module.so}
for tool in wrk nginx curl /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "$tool: not found; apt-get install -y wrk nginx curl python3" >&2; exit 3; }
done
[[ -f $module ]] || { echo "$module: not found; apt-get install -y libnginx-mod-http-js" >&2; exit 3; }

# shellcheck source=bench/lib/harness.sh
source "$root/bench/lib/harness.sh"  # free_port, nginx_http_basics

prefix=$(mktemp -d /tmp/switchyard-njs-bench-XXXXXX)
chmod 755 "$prefix"
mkdir -p "$prefix/logs" "$prefix/temp"
cleanup() {
  if [[ -s $prefix/nginx.pid ]]; then
    local pid; pid=$(cat "$prefix/nginx.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  fi
  rm -rf "$prefix"
}
trap cleanup EXIT

backend=$(free_port) fixed=$(free_port) routed=$(free_port) other_slot=$(free_port)
echo "$backend" >"$prefix/live-port"
cat >"$prefix/nginx.conf" <<CONF
load_module $module;
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log warn;
worker_processes 1;
events { worker_connections 4096; }
http {
$(nginx_http_basics "$prefix/temp")
  js_import switchyard_router from $router;
  js_set \$switchyard_upstream switchyard_router.upstream;
  upstream fixed { server 127.0.0.1:$backend; keepalive 32; }
  upstream bench_$backend { server 127.0.0.1:$backend max_fails=0; server 127.0.0.1:$other_slot backup max_fails=0; keepalive 32; keepalive_timeout 500ms; }
  upstream bench_$other_slot { server 127.0.0.1:$other_slot max_fails=0; server 127.0.0.1:$backend backup max_fails=0; keepalive 32; keepalive_timeout 500ms; }
  server { listen 127.0.0.1:$backend; location / { return 200 "ok\n"; } }
  server {
    listen 127.0.0.1:$fixed;
    location / { proxy_pass http://fixed; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
  server {
    listen 127.0.0.1:$routed;
    location / {
      set \$switchyard_live_port_file $prefix/live-port;
      set \$switchyard_upstream_prefix bench;
      proxy_pass http://\$switchyard_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
nginx -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/logs/error.log"
for port in "$fixed" "$routed"; do
  for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done
  [[ $(curl -s "http://127.0.0.1:$port/") == ok ]] || { echo "127.0.0.1:$port: nginx does not answer; see $prefix/logs/error.log" >&2; cat "$prefix/logs/error.log" >&2; exit 1; }
done

# run_wrk PORT: prints "requests_per_second p99_ms non_2xx_plus_errors".
run_wrk() {
  local out
  out=$(wrk -t2 -c"$connections" -d"${duration}s" --latency "http://127.0.0.1:$1/")
  /usr/bin/python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
rps = float(re.search(r'Requests/sec:\s+([\d.]+)', out).group(1))
p99 = re.search(r'99%\s+([\d.]+)(us|ms|s)', out)
scale = {'us': 0.001, 'ms': 1.0, 's': 1000.0}[p99.group(2)]
bad = sum(int(n) for n in re.findall(r'(?:Non-2xx or 3xx responses|connect|read|write|timeout)\s*:?\s*(\d+)', out))
print(f"{rps:.0f} {float(p99.group(1)) * scale:.2f} {bad}")
PY
}

fixed_rps=() routed_rps=() fixed_p99=() routed_p99=() failures=0
echo "nginx $(nginx -v 2>&1 | sed 's/.*\///'), njs module $module, $connections connections, ${duration}s per run, $(nproc) cores, load average $(cut -d' ' -f1 /proc/loadavg)"
for round in $(seq "$rounds"); do
  read -r rps p99 bad < <(run_wrk "$fixed"); fixed_rps+=("$rps"); fixed_p99+=("$p99"); failures=$((failures + bad))
  read -r rps2 p992 bad2 < <(run_wrk "$routed"); routed_rps+=("$rps2"); routed_p99+=("$p992"); failures=$((failures + bad2))
  echo "round $round: fixed upstream $rps req/s (p99 $p99 ms), njs router $rps2 req/s (p99 $p992 ms)"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
mf=$(median "${fixed_rps[@]}") mr=$(median "${routed_rps[@]}")
echo "median: fixed upstream $mf req/s (p99 $(median "${fixed_p99[@]}") ms), njs router $mr req/s (p99 $(median "${routed_p99[@]}") ms), router/fixed $(awk -v a="$mr" -v b="$mf" 'BEGIN {printf "%.2f", a / b}'); failed requests: $failures"
((failures == 0)) || { echo "bench/njs-router.sh: $failures failed requests; see $prefix/logs/error.log" >&2; exit 1; }
