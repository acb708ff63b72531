# shellcheck shell=bash
# bench/lib/harness.sh: shared pieces of the cutover benchmark and the demo,
# sourced by bash scripts. A private nginx (never the system's: its own
# prefix, config, pid file, logs and temp paths, on a loopback port), free
# loopback ports, and the sample service's ready line.
#
# Everything it starts is recorded in harness_pids / harness_nginx_prefixes so
# harness_cleanup (call it from an EXIT trap) stops exactly those processes.

harness_pids=()
harness_nginx_prefixes=()
harness_nginx_bin=${NGINX_BIN:-nginx}
harness_java_opts=(-XX:TieredStopAtLevel=1 -Xshare:auto -XX:+UseSerialGC -Xmx128m)

now_ms() { date +%s%3N; }

# free_port: prints a loopback port nobody listens on now (bind 127.0.0.1:0).
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# port_in_use PORT: true while something listens on 127.0.0.1:PORT.
port_in_use() {
  [[ -n $(ss -Hltn "sport = :$1") ]]
}

# wait_port_free PORT SECONDS: waits until nothing listens on PORT.
wait_port_free() {
  local port=$1 deadline=$(($(now_ms) + $2 * 1000))
  while port_in_use "$port"; do
    if (($(now_ms) > deadline)); then
      echo "127.0.0.1:$port: still in use after $2 s" >&2
      return 1
    fi
    sleep 0.05
  done
}

# nginx_http_basics TMP: the http-block lines of every private nginx: no
# access log, its temp files under TMP, keep-alive connections kept for the
# whole benchmark.
nginx_http_basics() {
  local tmp=$1
  cat <<CONF
  access_log off;
  client_body_temp_path $tmp/client_body;
  proxy_temp_path $tmp/proxy;
  fastcgi_temp_path $tmp/fastcgi;
  uwsgi_temp_path $tmp/uwsgi;
  scgi_temp_path $tmp/scgi;
  keepalive_requests 1000000;
CONF
}

# nginx_write_conf PREFIX LISTEN_PORT MODE [SNIPPET_FILE]
# Lays out a private nginx under PREFIX: conf/nginx.conf, logs/, tmp/.
# MODE include: the users' hand-written set-up; traffic goes to
#   $service_port, set by conf/service_port.inc (`set $service_port N;`),
#   the file their script rewrites.
# MODE snippet: what `switchyard-switch-traffic --print-nginx-config` tells a
#   user to paste (SNIPPET_FILE), placed where its comments say: the lines
#   before "# In the http block" at the top, those up to "# Inside the server
#   block" in the http block, the rest in the server block. So the benchmark
#   and the demo run exactly the configuration a user adopts.
# Lines in nginx_extra_http and nginx_extra_server (empty unless the caller
# sets them) go at the end of the http block and at the top of the server
# block: what a user adds beside the snippet (client_max_body_size, upstreams).
nginx_extra_http=""
nginx_extra_server=""
nginx_write_conf() {
  local prefix=$1 port=$2 mode=$3 snippet=${4:-}
  mkdir -p "$prefix/conf" "$prefix/logs" "$prefix/tmp"
  local main_part="" http_part="" server_part
  if [[ $mode == snippet ]]; then
    main_part=$(awk '/^# In the http block/ || /^# Inside the server block/ {exit} !/^[[:space:]]*(#|$)/' "$snippet")
    http_part=$(awk '/^# In the http block/ {on=1; next} /^# Inside the server block/ {exit} on && !/^[[:space:]]*(#|$)/' "$snippet")
    server_part=$(awk '/^# Inside the server block/ {on=1; next} on && !/^[[:space:]]*#/' "$snippet")
  else
    server_part="    location / {
      include $prefix/conf/service_port.inc;
      proxy_pass http://127.0.0.1:\$service_port;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_set_header Host \$host;
    }"
  fi
  cat >"$prefix/conf/nginx.conf" <<CONF
# A private nginx for switchyard's benchmarks and demo; never the system's.
$main_part
worker_processes 1;
pid $prefix/logs/nginx.pid;
error_log $prefix/logs/error.log warn;
events { worker_connections 4096; }
http {
$(nginx_http_basics "$prefix/tmp")
  keepalive_timeout 75s;
$http_part
$nginx_extra_http
  server {
    listen 127.0.0.1:$port;
$nginx_extra_server
$server_part
  }
}
CONF
}

# nginx_start PREFIX: starts the private nginx (master daemonizes; its pid is
# in PREFIX/logs/nginx.pid) and waits until it accepts connections.
nginx_start() {
  local prefix=$1
  "$harness_nginx_bin" -p "$prefix" -c "$prefix/conf/nginx.conf" -t -q || return 1
  "$harness_nginx_bin" -p "$prefix" -c "$prefix/conf/nginx.conf" || return 1
  harness_nginx_prefixes+=("$prefix")
}

# nginx_stop PREFIX: graceful quit of the private nginx at PREFIX, by its pid file.
nginx_stop() {
  local prefix=$1 pid
  pid=$(cat "$prefix/logs/nginx.pid" 2>/dev/null) || return 0
  kill -QUIT "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null
}

# nginx_wait_settled PREFIX SECONDS: after a reload, waits until the old
# worker generation has exited (the master has worker_processes children
# again, found by parent pid), so what answers next runs the new config.
nginx_wait_settled() {
  local prefix=$1 deadline=$(($(now_ms) + $2 * 1000)) master
  master=$(cat "$prefix/logs/nginx.pid") || return 1
  while (($(ps --ppid "$master" -o pid= | wc -l) > 1)); do
    if (($(now_ms) > deadline)); then
      echo "nginx at $prefix: old workers still running after $2 s" >&2
      return 1
    fi
    sleep 0.05
  done
}

# wait_version URL VERSION SECONDS: waits until URL answers with X-App-Version VERSION.
wait_version() {
  local url=$1 version=$2 deadline=$(($(now_ms) + $3 * 1000))
  while (($(now_ms) < deadline)); do
    if curl -s -m 2 -o /dev/null -D - "$url" | tr -d '\r' | grep -qix "x-app-version: $version"; then
      return 0
    fi
    sleep 0.05
  done
  echo "$url: does not answer with version $version after $3 s" >&2
  return 1
}

# start_service NAME JAR PORT LOG: starts the sample service in the background
# and records its pid in $started_pid and harness_pids.
start_service() {
  local jar=$2 port=$3 log=$4
  java "${harness_java_opts[@]}" -jar "$jar" --server.port="$port" >"$log" 2>&1 &
  started_pid=$!
  harness_pids+=("$started_pid")
}

# wait_ready LOG SECONDS: waits for the ready line in LOG and prints its epoch ms.
wait_ready() {
  local log=$1 deadline=$(($(now_ms) + $2 * 1000)) line
  while (($(now_ms) < deadline)); do
    line=$(grep -m1 '^hello-service ready at ' "$log" 2>/dev/null)
    if [[ -n $line ]]; then
      awk '{print $4}' <<<"$line"
      return 0
    fi
    sleep 0.02
  done
  echo "$log: no ready line after $2 s" >&2
  return 1
}

# stop_listeners PORT...: stops (SIGTERM, then SIGKILL after 10 s) whatever
# listens on these loopback ports: the slots switch-traffic or the users'
# script started, which run detached from this shell. Only for ports this
# run picked free itself, so what listens there is its own.
stop_listeners() {
  local port pid group self_group deadline
  local -a groups=() pids=()
  self_group=$(ps -o pgid= -p $$ | tr -d ' ')
  # A slot runs in its own process group under its supervisor (which would
  # start a killed service again): signal the whole group, as a stop does,
  # and wait until every process in it is gone, not only the listener.
  for port in "$@"; do
    for pid in $(ss -Hltnp "sport = :$port" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
      group=$(ps -o pgid= -p "$pid" | tr -d ' ')
      if [[ -n $group && $group != "$self_group" ]]; then
        groups+=("$group")
        kill -TERM -- "-$group" 2>/dev/null
      else
        pids+=("$pid")
        kill -TERM "$pid" 2>/dev/null
      fi
    done
  done
  deadline=$((SECONDS + 10))
  for group in "${groups[@]}"; do
    while kill -0 -- "-$group" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    kill -KILL -- "-$group" 2>/dev/null
  done
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done
  for port in "$@"; do
    wait_port_free "$port" 10 2>/dev/null || true
  done
}

# harness_cleanup: stops every process and nginx this harness started.
harness_cleanup() {
  local pid prefix
  for pid in "${harness_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for prefix in "${harness_nginx_prefixes[@]}"; do
    nginx_stop "$prefix"
  done
  sleep 0.2
  for pid in "${harness_pids[@]}"; do
    kill -KILL "$pid" 2>/dev/null
  done
}
