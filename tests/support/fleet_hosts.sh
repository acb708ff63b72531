# shellcheck shell=bash disable=SC2034
# (fleet_* variables are read by the scripts that source this file.)
# Test "hosts" for request-deploy, sourced by tests/cli/request_deploy_*.sh.
#
# Each host is a network namespace (its own loopback, a veth pair to this
# namespace at 10.X.N.2) with a private mount namespace whose /var/lib/switchyard
# is its own tmpfs, so it keeps the defaults a real server has: nginx on :80,
# slots on 8081/8082, state under /var/lib/switchyard/<app>. Each runs its own
# sshd (host key made here) and nginx (seamless mode: the njs router).
#
# fleet_setup N       makes N hosts; skips the test (exit 125, reason printed)
#                     where namespaces cannot be made
# fleet_exec I CMD... runs CMD inside host I (its network and mount namespaces)
# fleet_teardown      removes every namespace and process it made (an EXIT trap)
# fleet_test_start N  a test's start: the EXIT trap, fleet_setup N, $bin
#                     (request-deploy) and the work directory $ci, made and
#                     entered
# fail MESSAGE, json EXPR (a Python expression over `d`, the JSON on stdin)
#
# After fleet_setup: $fleet_dir (work directory), $fleet_key (client key),
# $fleet_known_hosts, fleet_address[I] (root@10.X.I.2), fleet_ip[I].

fleet_namespaces=()
fleet_address=()
fleet_ip=()

fleet_skip() {
  echo "SKIP: $*" >&2
  exit 125
}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

fleet_teardown() {
  local ns pid
  for ns in "${fleet_namespaces[@]}"; do
    # Every process in the host (sshd, nginx, slots, agents), then the host.
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  fleet_namespaces=()
  [[ -n ${fleet_dir:-} ]] && rm -rf "$fleet_dir"
  return 0
}

fleet_exec() {
  local index=$1
  shift
  nsenter -t "$(cat "$fleet_dir/h$index/pid")" -m -n -- "$@"
}

# The start of every host's nginx.conf, up to the server blocks of `http`:
# its files all under /var/lib/switchyard/nginx.
fleet_nginx_head() {
  cat <<CONF
worker_processes 1;
pid /var/lib/switchyard/nginx/nginx.pid;
error_log /var/lib/switchyard/nginx/error.log;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path /var/lib/switchyard/nginx/tmp/body;
  proxy_temp_path /var/lib/switchyard/nginx/tmp/proxy;
  fastcgi_temp_path /var/lib/switchyard/nginx/tmp/fastcgi;
  uwsgi_temp_path /var/lib/switchyard/nginx/tmp/uwsgi;
  scgi_temp_path /var/lib/switchyard/nginx/tmp/scgi;
CONF
}

# The nginx.conf of a host, listening on :80: seamless mode (the router
# reading /var/lib/switchyard/hello/live-port), or with FLEET_NGINX_MODE=reload
# the users' include /var/lib/switchyard/nginx/service_port.inc.
fleet_nginx_conf() {
  local router=$1
  if [[ ${FLEET_NGINX_MODE:-seamless} == reload ]]; then
    fleet_nginx_head
    cat <<CONF
  server {
    listen 80;
    location / {
      include /var/lib/switchyard/nginx/service_port.inc;
      proxy_pass http://127.0.0.1:\$service_port;
    }
  }
  # The users' own script's app (bench/baseline-switch.sh), on 9081/9082.
  server {
    listen 81;
    location / {
      include /var/lib/switchyard/nginx/baseline_port.inc;
      proxy_pass http://127.0.0.1:\$service_port;
    }
  }
}
CONF
    return
  fi
  echo "load_module /usr/lib/nginx/modules/ngx_http_js_module.so;"
  fleet_nginx_head
  cat <<CONF
  js_path "$(dirname "$router")/";
  js_import switchyard_router from $(basename "$router");
  js_set \$switchyard_upstream switchyard_router.upstream;
  upstream switchyard_8081 { server 127.0.0.1:8081; keepalive 16; }
  upstream switchyard_8082 { server 127.0.0.1:8082; keepalive 16; }
  server {
    listen 80;
    location / {
      set \$switchyard_live_port_file /var/lib/switchyard/hello/live-port;
      proxy_pass http://\$switchyard_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
}

fleet_setup() {
  local count=$1 i
  [[ $(id -u) == 0 ]] || fleet_skip "request-deploy fleet tests need root (network and mount namespaces)"
  for tool in ip unshare nsenter sshd ssh ssh-keygen nginx python3; do
    command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] ||
      fleet_skip "$tool: not installed (scripts/setup installs it)"
  done
  [[ -f /usr/lib/nginx/modules/ngx_http_js_module.so ]] ||
    fleet_skip "ngx_http_js_module: not installed; apt-get install -y libnginx-mod-http-js"
  fleet_dir=$(mktemp -d /tmp/switchyard-fleet-XXXXXX)
  # A subnet of our own: 10.<pid-derived>.<host>.0/24.
  local net=$((($$ % 200) + 20))
  local probe="sy$$p"
  ip netns add "$probe" 2>"$fleet_dir/probe.err" ||
    fleet_skip "ip netns add: $(cat "$fleet_dir/probe.err") (the CI job needs --privileged)"
  ip netns del "$probe"
  mkdir -p /var/lib/switchyard /run/sshd
  ssh-keygen -q -t ed25519 -N '' -C fleet-client -f "$fleet_dir/client_key"
  fleet_key=$fleet_dir/client_key
  fleet_known_hosts=$fleet_dir/known_hosts
  : >"$fleet_known_hosts"
  local router=${SWITCHYARD_SOURCE_DIR:?}/runner/host/nginx/router.js
  for ((i = 1; i <= count; i++)); do
    local ns="sy$$h$i" dir="$fleet_dir/h$i" ip="10.$net.$i.2"
    mkdir -p "$dir"
    ssh-keygen -q -t ed25519 -N '' -C "fleet-host-$i" -f "$dir/host_key"
    cp "$fleet_key.pub" "$dir/authorized_keys"
    cat >"$dir/sshd_config" <<SSHD
ListenAddress $ip
Port 22
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
MaxSessions 32
MaxStartups 64
Subsystem sftp /usr/lib/openssh/sftp-server
SSHD
    fleet_nginx_conf "$router" >"$dir/nginx.conf"
    ip netns add "$ns" || fleet_skip "ip netns add $ns failed"
    fleet_namespaces+=("$ns")
    ip link add "sy$$a$i" type veth peer name "sy$$b$i"
    ip link set "sy$$b$i" netns "$ns"
    ip addr add "10.$net.$i.1/24" dev "sy$$a$i"
    ip link set "sy$$a$i" up
    ip netns exec "$ns" ip addr add "$ip/24" dev "sy$$b$i"
    ip netns exec "$ns" ip link set "sy$$b$i" up
    ip netns exec "$ns" ip link set lo up
    # The host: a private mount namespace with its own /var/lib/switchyard,
    # nginx started in it, then sshd in the foreground (its pid is the host's).
    ip netns exec "$ns" unshare -m --propagation private sh -c '
      dir=$1
      mount -t tmpfs -o mode=0755 tmpfs /var/lib/switchyard || exit 1
      # sshd runs every command through the bash of root, which reads
      # ~/.bashrc; the one of this machine sets up pyenv there (half a second
      # a session, paid by every ssh command, of switchyard and of the users
      # alike), which a server would not have: the host gets an empty one.
      if [ -f /root/.bashrc ]; then mount --bind /dev/null /root/.bashrc || exit 1; fi
      mkdir -p /var/lib/switchyard/nginx/tmp /var/lib/switchyard/hello
      cp "$dir/nginx.conf" /var/lib/switchyard/nginx/nginx.conf
      # Before the first deploy nginx points at 8081, where nothing runs yet.
      echo 8081 >/var/lib/switchyard/hello/live-port
      echo "set \$service_port 8081;" >/var/lib/switchyard/nginx/service_port.inc
      echo "set \$service_port 9081;" >/var/lib/switchyard/nginx/baseline_port.inc
      nginx -p /var/lib/switchyard/nginx -c /var/lib/switchyard/nginx/nginx.conf \
        -e /var/lib/switchyard/nginx/error.log || exit 1
      echo $$ >"$dir/pid"
      exec /usr/sbin/sshd -D -f "$dir/sshd_config" -E "$dir/sshd.log"
    ' sh "$dir" >"$dir/host.log" 2>&1 &
    disown  # the teardown kills it; no job notice
    echo "$ip $(cut -d' ' -f1-2 "$dir/host_key.pub")" >>"$fleet_known_hosts"
    fleet_address[i]="root@$ip"
    fleet_ip[i]=$ip
  done
  # Wait until every sshd answers.
  for ((i = 1; i <= count; i++)); do
    local tries=0
    until ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="$fleet_known_hosts" \
      -o ConnectTimeout=2 -i "$fleet_key" "${fleet_address[i]}" true 2>/dev/null; do
      ((tries++ < 100)) || { cat "$fleet_dir/h$i/host.log" "$fleet_dir/h$i/sshd.log" >&2; echo "FAIL: host $i: sshd did not start" >&2; exit 1; }
      sleep 0.1
    done
  done
}

fleet_test_start() {
  trap fleet_teardown EXIT
  fleet_setup "$1"
  bin="${SWITCHYARD_BIN_DIR:?}/switchyard-request-deploy"
  ci="$fleet_dir/ci"
  mkdir -p "$ci"
  cd "$ci" || exit 1
}

# The target.nginx section (indented for `target:`) that drives a host's
# nginx as fleet_nginx_conf wrote it, in the same FLEET_NGINX_MODE.
fleet_nginx_yaml() {
  cat <<YAML
  nginx:
    mode: ${FLEET_NGINX_MODE:-seamless}
    binary: /usr/sbin/nginx
    prefix: /var/lib/switchyard/nginx
    conf: /var/lib/switchyard/nginx/nginx.conf
    pid_file: /var/lib/switchyard/nginx/nginx.pid
YAML
  if [[ ${FLEET_NGINX_MODE:-seamless} == reload ]]; then
    echo "    include: /var/lib/switchyard/nginx/service_port.inc"
  else
    echo "    router_script: ${SWITCHYARD_SOURCE_DIR:?}/runner/host/nginx/router.js"
  fi
}

# switchyard.yml for the fleet: the defaults a real server has, the service
# (tests/support/fleet_service.py) as the artifact, and `extra` YAML lines
# for the target section.
fleet_config() {
  local file=$1 extra=${2:-} hosts="" i
  for ((i = 1; i <= ${#fleet_address[@]}; i++)); do hosts+="${hosts:+, }${fleet_address[i]}"; done
  cat >"$file" <<YAML
app: hello
health:
  timeout: 5s
  interval: 50ms
target:
  start_command: [python3, "{artifact}", "{port}", "{version}"]
  drain_timeout: 3s
  stop_grace: 2s
  lock_timeout: 2s
$(fleet_nginx_yaml)
    url: http://127.0.0.1/version
    confirm_timeout: 5s
$extra
deploy:
  via: ssh
  hosts: [$hosts]
  remote_bin: ${SWITCHYARD_BIN_DIR}/switchyard
  ssh:
    identity_file: $fleet_key
    known_hosts: $fleet_known_hosts
YAML
}

# A release of the service: fleet_release DIR VERSION -> DIR/hello-VERSION.py
# with its manifest beside it.
fleet_release() {
  local dir=$1 version=$2 file
  file="$dir/hello-$version.py"
  mkdir -p "$dir"
  { cat "${SWITCHYARD_SOURCE_DIR}/tests/support/fleet_service.py"; echo "# release $version"; } >"$file"
  local sha size
  sha=$(sha256sum "$file" | cut -d' ' -f1)
  size=$(stat -c %s "$file")
  cat >"$file.manifest.json" <<JSON
{"app": "hello", "version": "$version", "app_version": "$version", "git_sha": "0123456789abcdef0123456789abcdef01234567", "branch": "main", "built_at": "2026-12-07T05:00:00Z", "file": "$(basename "$file")", "size": $size, "sha256": "$sha", "build_tool": "test", "java_version": ""}
JSON
  echo "$file"
}
