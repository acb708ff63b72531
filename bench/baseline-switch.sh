#!/usr/bin/env bash
# bench/baseline-switch.sh NEW_JAR
#
# The baseline switchyard is measured against: the blue/green switch script
# the users run today (DESIGN.md, "The baseline to beat"), written the way they
# write it, habits included, so the benchmark compares against what they really
# do. Do not "fix" it: every weakness here is one switchyard removes.
#
#   1. read the live port from the nginx include;
#   2. start the new jar on the other port with nohup java -jar ... &;
#   3. probe /actuator/health every 5 s up to 6 times, and carry on even if it
#      never answered (BASELINE_INITIAL_SLEEP=10 BASELINE_INTERVAL=10
#      BASELINE_TRIES=10 gives the other common variant: sleep 10, then every
#      10 s up to 10 times);
#   4. write `set $service_port NEW;` into the include with echo | tee;
#   5. nginx -t; nginx -s reload;
#   6. kill the old process at once.
#
# Parameters (environment), so the benchmark can aim it at a private nginx:
#   NGINX_BIN        nginx binary (default nginx)
#   NGINX_PREFIX     nginx -p (default: nginx's own)
#   NGINX_CONF       nginx -c (default: nginx's own)
#   NGINX_INCLUDE    the include holding `set $service_port N;` (default /etc/nginx/conf.d/service_port.inc)
#   APP_DIR          where the pid files (app-<port>.pid) and logs (app-<port>.log) go (default /opt/app)
#   PORT_BLUE, PORT_GREEN   the two ports (default 8081, 8082)
#   JAVA_BIN, JAVA_OPTS     how to run the jar (default java, no options)
#   BASELINE_INITIAL_SLEEP, BASELINE_INTERVAL, BASELINE_TRIES   the health loop (default 0, 5, 6)
#   BASELINE_KILL_SIGNAL    the signal for the old process (default TERM, what plain `kill` sends)

NEW_JAR=${1:?usage: baseline-switch.sh NEW_JAR}
NGINX_BIN=${NGINX_BIN:-nginx}
NGINX_INCLUDE=${NGINX_INCLUDE:-/etc/nginx/conf.d/service_port.inc}
APP_DIR=${APP_DIR:-/opt/app}
PORT_BLUE=${PORT_BLUE:-8081}
PORT_GREEN=${PORT_GREEN:-8082}
JAVA_BIN=${JAVA_BIN:-java}
BASELINE_INITIAL_SLEEP=${BASELINE_INITIAL_SLEEP:-0}
BASELINE_INTERVAL=${BASELINE_INTERVAL:-5}
BASELINE_TRIES=${BASELINE_TRIES:-6}
BASELINE_KILL_SIGNAL=${BASELINE_KILL_SIGNAL:-TERM}

NGINX_ARGS=()
if [ -n "${NGINX_PREFIX:-}" ]; then NGINX_ARGS+=(-p "$NGINX_PREFIX"); fi
if [ -n "${NGINX_CONF:-}" ]; then NGINX_ARGS+=(-c "$NGINX_CONF"); fi

# 1. Which port is live?
CURRENT_PORT=$(grep -o '[0-9]\+' "$NGINX_INCLUDE" | tail -1)
if [ "$CURRENT_PORT" = "$PORT_BLUE" ]; then
  NEW_PORT=$PORT_GREEN
else
  NEW_PORT=$PORT_BLUE
fi
echo "Current port: $CURRENT_PORT, deploying to $NEW_PORT"

# 2. Start the new version on the idle port.
# shellcheck disable=SC2086 # JAVA_OPTS is a list of words, as users write it.
nohup "$JAVA_BIN" $JAVA_OPTS -jar "$NEW_JAR" --server.port="$NEW_PORT" >"$APP_DIR/app-$NEW_PORT.log" 2>&1 &
echo $! >"$APP_DIR/app-$NEW_PORT.pid"

# 3. Wait for it to come up (or not).
sleep "$BASELINE_INITIAL_SLEEP"
for RETRY in $(seq 1 "$BASELINE_TRIES"); do
  RESPONSE=$(curl -s "http://127.0.0.1:$NEW_PORT/actuator/health")
  if echo "$RESPONSE" | grep -q '"status":"UP"'; then
    echo "Health check passed"
    break
  fi
  echo "Health check failed ($RETRY/$BASELINE_TRIES), retrying in ${BASELINE_INTERVAL}s"
  sleep "$BASELINE_INTERVAL"
done

# 4. Point nginx at the new port.
echo "set \$service_port $NEW_PORT;" | tee "$NGINX_INCLUDE" >/dev/null

# 5. Check and reload nginx.
"$NGINX_BIN" "${NGINX_ARGS[@]}" -t
"$NGINX_BIN" "${NGINX_ARGS[@]}" -s reload

# 6. Stop the old version.
if [ -f "$APP_DIR/app-$CURRENT_PORT.pid" ]; then
  kill -s "$BASELINE_KILL_SIGNAL" "$(cat "$APP_DIR/app-$CURRENT_PORT.pid")"
  rm -f "$APP_DIR/app-$CURRENT_PORT.pid"
fi
echo "Deployed $NEW_JAR on port $NEW_PORT"
