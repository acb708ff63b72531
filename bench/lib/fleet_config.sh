# shellcheck shell=bash
# bench/lib/fleet_config.sh: switchyard.yml's `target:` and `deploy:`
# sections for benchmarks that deploy the sample service's jar to
# tests/support/fleet_hosts.sh hosts in reload mode (FLEET_NGINX_MODE=reload):
# the slots behind the host's nginx on :80 through its include, the request
# over ssh with the fleet's key and known hosts, the host running this build's
# switchyard ($SWITCHYARD_BIN_DIR). Sourced after fleet_setup.

# fleet_reload_sections JAVA_OPTS HOST...: prints both sections; JAVA_OPTS is
# the JVM's options as one YAML list fragment ("-Xmx128m, -XX:+UseSerialGC").
fleet_reload_sections() {
  local java_opts=$1 hosts="" host
  shift
  for host in "$@"; do hosts+="${hosts:+, }$host"; done
  cat <<YAML
target:
  start_command: [java, $java_opts, -jar, "{artifact}", "--server.port={port}"]
  drain_timeout: 5s
  stop_grace: 5s
  lock_timeout: 10s
  keep_releases: 3
$(FLEET_NGINX_MODE=reload fleet_nginx_yaml)
    url: http://127.0.0.1/
    confirm_timeout: 30s
deploy:
  via: ssh
  hosts: [$hosts]
  remote_bin: ${SWITCHYARD_BIN_DIR:?}/switchyard
  ssh: {identity_file: ${fleet_key:?}, known_hosts: ${fleet_known_hosts:?}}
YAML
}
