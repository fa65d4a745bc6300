#!/usr/bin/env bash
# Runs the Postman collection with newman against a private system: its own redis-server and MongoDB test
# engine on free ports, the four built services (node <svc>/dist/index.js), then newman. Everything it starts
# is stopped by PID on exit, whatever happened; the exit code is newman's.
#
#   npm run build && npm run test:postman
#   KEEP_LOGS=1 npm run test:postman        # keep the services' logs (printed path)
#   POSTMAN_SERVICES_ONLY=1 scripts/postman.sh   # start everything, print the URLs, wait for Ctrl-C
set -euo pipefail
cd "$(dirname "$0")/.."

ADMIN_API_KEY="postman-admin-key-0123456789"
ENGINE=node_modules/@jongodb/memory-server-bin-linux-x64-gnu/bin/jongodb
WORK="$(mktemp -d "${TMPDIR:-/tmp}/postman-run.XXXXXX")"
PIDS=()

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  # Reverse order: services first, then their dependencies.
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    kill -TERM "${PIDS[i]}" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [[ $status -ne 0 || -n "${KEEP_LOGS:-}" ]]; then
    echo "postman: logs kept in $WORK" >&2
    if [[ $status -ne 0 ]]; then
      for log in "$WORK"/*.log; do
        echo "--- tail of $log" >&2
        tail -n 20 "$log" >&2 || true
      done
    fi
  else
    rm -rf "$WORK"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close();});"
}

# wait_for_line FILE REGEX SECONDS PID: waits until FILE holds a line matching REGEX.
wait_for_line() {
  local file=$1 regex=$2 seconds=$3 pid=$4
  for _ in $(seq 1 $((seconds * 10))); do
    if grep -qE "$regex" "$file" 2>/dev/null; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "postman: process $pid exited early" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "postman: no '$regex' in $file within ${seconds}s" >&2
  return 1
}

# wait_for_health URL SECONDS PID: waits until GET URL/health answers 200.
wait_for_health() {
  local url=$1 seconds=$2 pid=$3
  for _ in $(seq 1 $((seconds * 5))); do
    if curl -fs -m 1 -o /dev/null "$url/health"; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "postman: the service behind $url exited early" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "postman: $url/health did not answer 200 within ${seconds}s" >&2
  return 1
}

for svc in ingestion_service processor_service reporting_service cron_service; do
  if [[ ! -f "$svc/dist/index.js" ]]; then
    echo "postman: $svc/dist/index.js is missing; run npm run build first" >&2
    exit 1
  fi
done

REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
  >"$WORK/redis.log" 2>&1 &
PIDS+=($!)
wait_for_line "$WORK/redis.log" 'Ready to accept connections' 20 "${PIDS[-1]}"

MONGO_PORT=$(free_port)
"$ENGINE" --port="$MONGO_PORT" >"$WORK/mongodb.log" 2>&1 &
PIDS+=($!)
wait_for_line "$WORK/mongodb.log" 'JONGODB_URI=' 30 "${PIDS[-1]}"

export NODE_ENV=test
export LOG_LEVEL="${LOG_LEVEL:-warn}"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
export MONGODB_URI="mongodb://127.0.0.1:$MONGO_PORT/postman"
export ADMIN_API_KEY
export QUEUE_NAME=postman-events
export REDIS_PREFIX=postman

declare -A URLS
for svc in ingestion_service processor_service reporting_service cron_service; do
  port=$(free_port)
  PORT="$port" node "$svc/dist/index.js" >"$WORK/$svc.log" 2>&1 &
  PIDS+=($!)
  URLS[$svc]="http://127.0.0.1:$port"
  wait_for_health "${URLS[$svc]}" 30 "${PIDS[-1]}"
  echo "postman: $svc up at ${URLS[$svc]}"
done

if [[ -n "${POSTMAN_SERVICES_ONLY:-}" ]]; then
  echo "ADMIN_API_KEY=$ADMIN_API_KEY INGEST=${URLS[ingestion_service]} REPORT=${URLS[reporting_service]}"
  echo "postman: services running; Ctrl-C stops them"
  while true; do sleep 1; done
fi

set +e
npx --no-install newman run postman/analytics.postman_collection.json \
  --env-var "ingestion_url=${URLS[ingestion_service]}" \
  --env-var "processor_url=${URLS[processor_service]}" \
  --env-var "reporting_url=${URLS[reporting_service]}" \
  --env-var "cron_url=${URLS[cron_service]}" \
  --env-var "admin_api_key=$ADMIN_API_KEY" \
  --timeout-request 10000 \
  --color off
code=$?
set -e
exit $code
