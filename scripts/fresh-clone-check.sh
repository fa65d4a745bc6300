#!/usr/bin/env bash
# The README's `npm start` as a new user runs it: clones this checkout's HEAD (committed work only) into an
# empty temporary folder, runs `npm start` there with no node_modules/ (so it must install and build by
# itself), checks that the four services answer /health and that the printed curl command answers 202, runs
# `npm stop` and checks that nothing it started is left running. The folder is removed at the end.
#
#   bash scripts/fresh-clone-check.sh          (.ci/run calls it)
#
# It needs the services' ports 3000, 3001, 3002 and 4000 free, and nothing on MongoDB's 27017 unless
# MONGODB_URI names a throwaway database. A Redis already on 6379 (not started here) is used under a
# prefix of its own, whose keys are removed at the end; set REDIS_URL to use another one.
set -euo pipefail
cd "$(dirname "$0")/.."
SOURCE="$PWD"
PORTS=(3000 3001 3002 4000)

step() { printf '\n=== fresh clone: %s (%ss)\n' "$1" "$SECONDS"; }
die() {
  echo "fresh-clone-check: $*" >&2
  exit 1
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

step "checking the ports"
for port in "${PORTS[@]}"; do
  port_open "$port" && die "port $port is in use; stop what uses it (\`npm stop\` in that checkout) first."
done
if [[ -z "${MONGODB_URI:-}" ]] && port_open 27017; then
  die "something answers on 27017 and npm start would use it; set MONGODB_URI to a throwaway database."
fi
if [[ -z "${REDIS_URL:-}" ]] && port_open 6379; then
  export REDIS_PREFIX="fresh_clone_$RANDOM$RANDOM"
  echo "a Redis runs on 6379: npm start uses it under the prefix $REDIS_PREFIX (removed at the end)"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/fresh-clone.XXXXXX")"
CLONE="$WORK/analytics-backend"
STARTED=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n "$STARTED" ]]; then
    echo "fresh-clone-check: stopping what npm start started" >&2
    (cd "$CLONE" && npm stop >/dev/null 2>&1) || true
  fi
  if [[ -n "${REDIS_PREFIX:-}" ]] && command -v redis-cli >/dev/null; then
    redis-cli --scan --pattern "$REDIS_PREFIX:*" | xargs -r redis-cli del >/dev/null || true
  fi
  if [[ $status -ne 0 && -f "$WORK/start.log" ]]; then
    echo "--- npm start's output (tail)" >&2
    tail -n 40 "$WORK/start.log" >&2
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT INT TERM

step "git clone $(git rev-parse --short HEAD) into $CLONE"
git clone --quiet "$SOURCE" "$CLONE"
[[ ! -e "$CLONE/node_modules" ]] || die "the clone has a node_modules/"

step "npm start (installs, builds, starts)"
cd "$CLONE"
STARTED=1
npm start 2>&1 | tee "$WORK/start.log" | sed -u 's/^/  | /' || die "npm start failed (its output is above)"
grep -q 'installing dependencies: npm ci (there is no node_modules/ yet)' "$WORK/start.log" ||
  die "npm start did not say that it installs the dependencies"
grep -q 'building: tsc -b' "$WORK/start.log" || die "npm start did not say that it builds"

step "every service answers /health with 200"
for port in "${PORTS[@]}"; do
  code="$(curl -s -o /dev/null -w '%{http_code}' -m 3 "http://127.0.0.1:$port/health")"
  echo "  :$port/health -> $code"
  [[ "$code" == 200 ]] || die "the service on :$port answers /health with $code"
done

step "the printed curl command answers 202"
# The two lines after "Send an event": `curl ... \` and its continuation, run exactly as printed.
command="$(grep -A2 '^Send an event' "$WORK/start.log" | tail -n 2 | sed 's/\\$//' | tr '\n' ' ')"
[[ "$command" == *"curl -s -X POST http://localhost:3000/event"* ]] || die "no curl command printed"
code="$(eval "$command -o /dev/null -w '%{http_code}'")"
echo "  answered $code"
[[ "$code" == 202 ]] || die "the printed curl command answered $code, not 202"

step "npm stop leaves nothing running"
pids="$(node -e 'const s=require("./.data/started.json");console.log(Object.values(s).map((e)=>e.pid).filter(Boolean).join(" "))')"
pm2_pid="$(cat .data/pm2/pm2.pid)"
npm stop 2>&1 | sed -u 's/^/  | /'
STARTED=""
for pid in $pids $pm2_pid; do
  ! kill -0 "$pid" 2>/dev/null || die "process $pid (started by npm start) still runs after npm stop"
done
for port in "${PORTS[@]}"; do
  ! port_open "$port" || die "port $port is still in use after npm stop"
done
left="$(ps -eo pid=,args= | grep -F "$CLONE" | grep -v grep || true)"
[[ -z "$left" ]] || die "still running from the clone after npm stop: $left"
echo "  nothing left: pm2 daemon $pm2_pid and ${pids:-no other process} gone, ports free"

step "done: npm start works on a fresh clone"
