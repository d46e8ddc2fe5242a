#!/usr/bin/env bash
# bench/run.sh - enoki's benchmark harness (bench/README.md says what it measures and why).
#
#   bench/run.sh                 full run: 3 runs of each measurement, 8 s each (about 12 minutes)
#   bench/run.sh --quick         1 run, 2 s each, fewer concurrencies (under a minute; a smoke check)
#   bench/run.sh --json FILE     also write the figures as JSON
#   bench/run.sh --baseline BIN  also measures the enoki binary BIN, side by side (below)
#   NAMEKO_SRC=/path/to/nameko bench/run.sh   adds nameko's own gateway pattern (@http + ServiceRpc)
#   bench/run.sh --only amphora  only the amphora echo against the nameko echo (issue 17)
#   bench/run.sh --only traced   only the traced, rate-limited route against neither (issue 19)
#   bench/run.sh --only auth     only the route behind a required token against none (issue 15)
#   bench/run.sh --only workers  only enoki with GATEWAY.workers 1 against workers 2 (issue 20)
#   bench/run.sh --only soak     only the soak: bench/soak.py, 10 minutes (--soak-minutes N)
#
# Options: --quick, --runs N, --duration S, --json FILE, --delivery-mode 1|2 (GATEWAY.delivery_mode
# and the ceiling's; default 1, enoki's default), --prefetch N (the backend's; default 10, nameko's
# PREFETCH_COUNT), --pin (taskset: servers on CPU 1, load generators and the backend on CPU 0),
# --split (the deployment's layout on 2 CPUs: the broker's processes and the backends on CPU 0, the
# gateway side, enoki, libmicrohttpd, the C client and wrk, on CPU 1; the fan-out clients on CPU 0;
# enokis of GATEWAY.workers 2 on both; the broker's affinity is given back at exit),
# --profile (perf record -g of enoki during one more 64-connection run; top symbols printed),
# --baseline BIN (a second enoki, e.g. an older build, on its own port and GATEWAY.name with the
# same config; in every run it is measured right after this commit's enoki: REST at every
# concurrency, generic route and websocket hub at 64; a "this commit / baseline" table follows),
# --only amphora (only the "amphora echo vs nameko echo" pair at 64 connections: no other row,
# no idle websockets, start-up or route matching; with --profile, enoki is profiled on both routes;
# likewise --only auth),
# --only traced (only the traced, rate-limited REST route against one with neither, at 64),
# --only auth (only the echo behind auth: required with a token against the echo without, at 64),
# --only workers (only REST at 64 on an enoki with GATEWAY.workers: 1 against one with 2),
# --only soak (only the soak), --soak-minutes N (the full run ends with bench/soak.py for N minutes,
# default 10; 0 leaves it out; --quick leaves it out), --keep-logs, --help.
#
# It builds enoki and the tools (make all bench), makes sure the broker runs (scripts/broker.sh),
# creates a vhost of its own (deleted at exit, with everything declared in it), starts the C echo
# backend twice (nameko's protocol, and amphora's for bench_amph), enoki, a bare libmicrohttpd
# server (a nameko service with NAMEKO_SRC, the baseline with --baseline) on 127.0.0.1, measures,
# prints one table and the targets, and stops everything it started. Timings are not asserted: the
# exit status is 0 whenever every measurement ran.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
QUICK=0
RUNS=""
DURATION=""
JSON_OUT=""
PREFETCH=10
DELIVERY_MODE=1
PIN=0
PROFILE=0
KEEP=0
BASELINE=""
ONLY=""
SOAK_MINUTES=10

usage() { sed -n '2,38p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --runs) RUNS=$2; shift ;;
        --duration) DURATION=$2; shift ;;
        --json) JSON_OUT=$2; shift ;;
        --prefetch) PREFETCH=$2; shift ;;
        --delivery-mode) DELIVERY_MODE=$2; shift ;;
        --pin) PIN=1 ;;
        --split) PIN=split ;;
        --profile) PROFILE=1 ;;
        --baseline) BASELINE=$2; shift ;;
        --only) ONLY=$2; shift ;;
        --soak-minutes) SOAK_MINUTES=$2; shift ;;
        --keep-logs) KEEP=1 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "bench: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

if [ "$QUICK" = 1 ]; then
    RUNS=${RUNS:-1}; DURATION=${DURATION:-2}; WARMUP=0.5
    CONNS="1 64"; IDLE_SOCKETS=1000; STARTUP_RUNS=1
    FANOUT_SOCKETS=500; FANOUT_EVENT_SOCKETS=200
else
    RUNS=${RUNS:-3}; DURATION=${DURATION:-8}; WARMUP=1
    CONNS="1 16 64 256"; IDLE_SOCKETS=10000; STARTUP_RUNS=5
    FANOUT_SOCKETS=10000; FANOUT_EVENT_SOCKETS=1000
fi
case "$DURATION" in ''|*[!0-9]*) echo "bench: --duration takes whole seconds" >&2; exit 2 ;; esac
if [ "$DURATION" -gt 10 ]; then
    echo "bench: --duration is at most 10 s (each load run is bounded)" >&2
    exit 2
fi
case "$DELIVERY_MODE" in 1|2) ;; *) echo "bench: --delivery-mode is 1 or 2" >&2; exit 2 ;; esac
case "$ONLY" in ''|amphora|traced|auth|workers|soak) ;; *) echo "bench: --only takes amphora, traced, auth, workers or soak" >&2; exit 2 ;; esac
case "$SOAK_MINUTES" in ''|*[!0-9]*) echo "bench: --soak-minutes takes whole minutes" >&2; exit 2 ;; esac
OTHER_MODE=$((3 - DELIVERY_MODE))
if [ -n "$JSON_OUT" ]; then
    case "$JSON_OUT" in /*) ;; *) JSON_OUT="$ROOT/$JSON_OUT" ;; esac
fi
BASELINE_COMMIT=""
if [ -n "$BASELINE" ]; then
    case "$BASELINE" in /*) ;; *) BASELINE="$ROOT/$BASELINE" ;; esac
    [ -f "$BASELINE" ] && [ -x "$BASELINE" ] ||
        { echo "bench: --baseline $BASELINE is not an executable file" >&2; exit 2; }
    # The commit of the tree the binary sits in (a guess: the binary may be older than the tree).
    BASELINE_COMMIT="$(git -C "$(dirname "$BASELINE")" rev-parse --short HEAD 2>/dev/null || echo unknown)"
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
log() { echo "bench: $*" >&2; }
for cmd in make cc wrk curl perf "$PYTHON"; do
    [ "$cmd" = perf ] && [ "$PROFILE" = 0 ] && continue
    command -v "$cmd" >/dev/null || { log "$cmd is needed (Debian: apt-get install wrk curl ...)"; exit 2; }
done

# --- everything started here is stopped by the trap ----------------------------------------------
TMP=$(mktemp -d /tmp/enoki-bench.XXXXXX)
VHOST="enoki-bench-$$-$RANDOM"
VHOST_MADE=0
PIDS=()
FAILED=1
BROKER_MASKS=() # pid:cpu-list of the broker's processes before --split moved them

stop_pid() {
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local i
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        stop_pid "${PIDS[$i]}"
    done
    for i in "${BROKER_MASKS[@]}"; do
        $SUDO taskset -a -pc "${i#*:}" "${i%%:*}" >/dev/null 2>&1 || log "could not give the broker its CPUs back"
    done
    if [ "$VHOST_MADE" = 1 ]; then
        $SUDO rabbitmqctl -q delete_vhost "$VHOST" >/dev/null 2>&1 ||
            log "could not delete vhost $VHOST"
    fi
    if [ "$KEEP" = 1 ] || [ "$FAILED" = 1 ]; then
        log "logs kept in $TMP"
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build, broker, vhost ------------------------------------------------------------------------
log "building (make all bench)"
make -s all bench >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log" >&2; exit 1; }
# Copies, so that a rebuild in the working tree while this runs changes nothing measured here.
mkdir -p "$TMP/bin"
cp "$BUILD/enoki" "$TMP/bin/enoki"
for t in echo_backend rpc_ceiling mhd_ceiling ws_bench fanout_bench send_floor startup_time route_match jwt_cost; do
    cp "$BUILD/bench/$t" "$TMP/bin/$t"
done
TOOLS="$TMP/bin"
ENOKI="$TMP/bin/enoki"
if [ -n "$BASELINE" ]; then
    cp "$BASELINE" "$TMP/bin/enoki-baseline"
fi
COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
git diff --quiet HEAD -- core routes gateway 2>/dev/null || COMMIT="$COMMIT+local changes"
scripts/broker.sh >&2
$SUDO rabbitmqctl -q add_vhost "$VHOST" >/dev/null
VHOST_MADE=1
$SUDO rabbitmqctl -q set_permissions -p "$VHOST" guest '.*' '.*' '.*' >/dev/null
URI="amqp://guest:guest@127.0.0.1:5672/$VHOST"

# Sockets: 10,000 idle websockets need as many descriptors in enoki and in the client.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
NOFILE=$(ulimit -n)
if [ "$NOFILE" != unlimited ] && [ "$NOFILE" -lt $((IDLE_SOCKETS + 200)) ]; then
    IDLE_SOCKETS=$((NOFILE - 200))
    log "ulimit -n is $NOFILE: the idle websocket test opens $IDLE_SOCKETS sockets only"
fi
if [ "$NOFILE" != unlimited ] && [ "$NOFILE" -lt $((FANOUT_SOCKETS + 200)) ]; then
    FANOUT_SOCKETS=$((NOFILE - 200))
    log "ulimit -n is $NOFILE: the fan-out test opens $FANOUT_SOCKETS sockets only"
fi

# Seven distinct free ports, below the kernel's ephemeral range: a port from that range may become
# the local port of one of wrk's connections before the listener that was to have it starts.
read -r PORT MHD_PORT SPARE_PORT NAMEKO_PORT BASE_PORT W1_PORT W2_PORT < <("$PYTHON" \
    "$ROOT/tests/integration/ports.py" 7)

SERVER_CPU=()
LOAD_CPU=()
CLUSTER_CPU=() # the backends
CLIENT_CPU=()  # the fan-out clients (browsers, in a deployment)
if [ "$PIN" = 1 ]; then
    SERVER_CPU=(taskset -c 1)
    LOAD_CPU=(taskset -c 0)
    CLUSTER_CPU=(taskset -c 0)
    CLIENT_CPU=(taskset -c 0)
elif [ "$PIN" = split ]; then
    # The issue's deployment (the broker elsewhere, enoki on cores of its own), on one machine: the
    # broker and the backends get CPU 0 alone, so enoki's CPU and wrk's cannot slow the broker down
    # and C and enoki meet the same broker. Every beam.smp thread is moved; the old mask comes back
    # at exit (cleanup).
    SERVER_CPU=(taskset -c 1)
    LOAD_CPU=(taskset -c 1)
    CLUSTER_CPU=(taskset -c 0)
    CLIENT_CPU=(taskset -c 0)
    for pid in $(pgrep -x beam.smp); do
        BROKER_MASKS+=("$pid:$(taskset -pc "$pid" | sed 's/.*: //')")
        $SUDO taskset -a -pc 0 "$pid" >/dev/null
    done
    [ "${#BROKER_MASKS[@]}" -gt 0 ] || { log "--split: no local broker (beam.smp) to pin"; exit 1; }
fi

# An enoki config: a route, the generic route (GATEWAY.expose), limits raised for 10,000 sockets.
# The bearer token of the auth measurement and its key set (bench/jwt_cost.c writes both, and
# measures a cold RS256 and ES256 verification and a cached one).
"$TOOLS/jwt_cost" --jwks "$TMP/jwks.json" --token "$TMP/token" >"$TMP/jwt_cost.out"

# With the 4th argument (enoki's own config, not the spare's or the baseline's, which may be an enoki
# without GATEWAY.services): /auth/echo/<int:value> behind a token, and the amphora service
# bench_amph (served by the second backend) behind /amph/echo/<int:value>.
write_config() { # file port name [main]
    cat >"$1" <<EOF
AMQP_URI: $URI
WEB_SERVER_ADDRESS: 127.0.0.1:$2
rpc_exchange: nameko-rpc
GATEWAY:
  name: $3
  delivery_mode: $DELIVERY_MODE
  expose: [bench_echo.*]
  max_connections: 15000
  websocket_max_sockets: 15000
EOF
    if [ -n "${4:-}" ]; then
        cat >>"$1" <<EOF
  auth:
    claims: {sub: user_id}
    jwt: {algorithms: [RS256, ES256], jwks_file: $TMP/jwks.json}
  services: {bench_amph: {protocol: amphora}}
  rate_limits:
    - {name: never, key: client_ip, rate: 1000000000/s, match: ["/limited/*"]}
EOF
    fi
    cat >>"$1" <<EOF
routes:
  - rule: /echo/<int:value>
    rpc: bench_echo.echo
EOF
    if [ -n "${4:-}" ]; then
        cat >>"$1" <<EOF
  - rule: /auth/echo/<int:value>
    rpc: bench_echo.echo
    auth: required
    scopes: [bench:echo]
  - rule: /amph/echo/<int:value>
    rpc: bench_amph.echo
  - rule: /limited/echo/<int:value>
    rpc: bench_echo.echo
EOF
    fi
}
write_config "$TMP/enoki.yaml" "$PORT" enoki_bench main
write_config "$TMP/enoki-spare.yaml" "$SPARE_PORT" enoki_bench_spare
write_config "$TMP/enoki-baseline.yaml" "$BASE_PORT" enoki_bench_baseline
# The "without them" of the traced, rate-limited row: the main config with tracing off and without
# its rate limit, on the spare port while the main measurements run.
write_config "$TMP/enoki-plain.yaml" "$SPARE_PORT" enoki_bench_plain main
sed -i -e 's/^GATEWAY:$/GATEWAY:\n  trace_context: false/' -e '/^  rate_limits:$/,+1d' \
    "$TMP/enoki-plain.yaml"
# GATEWAY.workers (issue 20): the main config's REST route on an enoki of one worker (exactly
# today's process) and on one of two workers (a supervisor and two processes on one port).
for w in 1 2; do
    port_var="W${w}_PORT"
    write_config "$TMP/enoki-w$w.yaml" "${!port_var}" "enoki_bench_w$w"
    sed -i "s/^GATEWAY:\$/GATEWAY:\n  workers: $w/" "$TMP/enoki-w$w.yaml"
done
cat >"$TMP/traced.lua" <<'EOF'
wrk.headers["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
wrk.headers["tracestate"] = "rojo=00f067aa0ba902b7"
EOF
cat >"$TMP/auth.lua" <<EOF
wrk.headers["Authorization"] = "Bearer $(cat "$TMP/token")"
EOF
cat >"$TMP/post.lua" <<'EOF'
wrk.method = "POST"
wrk.body = '{"kwargs": {"value": 42}}'
wrk.headers["Content-Type"] = "application/json"
EOF

# A 4 KiB JSON reply (the generic route echoes its kwargs), read plain and gzip-coded
# (GATEWAY.compress_min 1 KiB, compress_level 6: the defaults).
BIG_TEXT=$(head -c 3000 /dev/urandom | base64 -w 0 | tr '+/' 'ab' | head -c 4000)
for coding in identity gzip; do
    cat >"$TMP/big-$coding.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"kwargs": {"value": "$BIG_TEXT"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept-Encoding"] = "$coding"
EOF
done

wait_for_line() { # file pattern pid what
    for _ in $(seq 1 300); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || { cat "$1" >&2; log "$4 exited"; exit 1; }
        sleep 0.1
    done
    cat "$1" >&2
    log "$4 did not start"
    exit 1
}

wait_for_200() { # url pid what
    # Each try and the wait are bounded: a server that accepts and never answers (a nameko
    # container whose thread died at start-up) must end the wait, not hang it.
    local deadline=$((SECONDS + 60))
    while [ "$SECONDS" -lt "$deadline" ]; do
        [ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$1" || true)" = 200 ] && return 0
        kill -0 "$2" 2>/dev/null || { log "$3 exited"; exit 1; }
        sleep 0.1
    done
    log "$3 did not answer 200 on $1"
    exit 1
}

start_enoki() { # config log [binary] -> ENOKI_PID
    local cpu=("${SERVER_CPU[@]}")
    # --split: an enoki of two workers gets both CPUs (it has no two of its own on this machine).
    [ "$PIN" = split ] && grep -q '^  workers: 2' "$1" && cpu=()
    "${cpu[@]}" "${3:-$ENOKI}" --config "$1" >>"$2" 2>&1 &
    ENOKI_PID=$!
    PIDS+=("$ENOKI_PID")
}

# --- start the servers ---------------------------------------------------------------------------
log "vhost $VHOST; enoki on :$PORT, libmicrohttpd on :$MHD_PORT; logs in $TMP"
"${CLUSTER_CPU[@]}" "$TOOLS/echo_backend" --uri "$URI" --prefetch "$PREFETCH" >"$TMP/backend.log" 2>&1 &
BACKEND_PID=$!
PIDS+=("$BACKEND_PID")
wait_for_line "$TMP/backend.log" ready "$BACKEND_PID" "the echo backend"
# The same backend speaking amphora's protocol, for the service bench_amph (same prefetch).
"${CLUSTER_CPU[@]}" "$TOOLS/echo_backend" --uri "$URI" --protocol amphora --service bench_amph \
    --prefetch "$PREFETCH" >"$TMP/backend-amph.log" 2>&1 &
AMPH_BACKEND_PID=$!
PIDS+=("$AMPH_BACKEND_PID")
wait_for_line "$TMP/backend-amph.log" ready "$AMPH_BACKEND_PID" "the amphora echo backend"
"${SERVER_CPU[@]}" "$TOOLS/mhd_ceiling" --port "$MHD_PORT" >"$TMP/mhd.log" 2>&1 &
MHD_PID=$!
PIDS+=("$MHD_PID")
wait_for_line "$TMP/mhd.log" ready "$MHD_PID" "mhd_ceiling"
start_enoki "$TMP/enoki.yaml" "$TMP/enoki.log"
EP=$ENOKI_PID
wait_for_200 "http://127.0.0.1:$PORT/readyz" "$EP" enoki
body=$(curl -s --max-time 10 "http://127.0.0.1:$PORT/echo/42")
[ "$body" = '{"value":42}' ] || { log "enoki answered '$body' to /echo/42"; exit 1; }
body=$(curl -s --max-time 10 "http://127.0.0.1:$PORT/amph/echo/42")
[ "$body" = '{"value":42}' ] || { log "enoki answered '$body' to /amph/echo/42 (amphora)"; exit 1; }
body=$(curl -s --max-time 10 "http://127.0.0.1:$PORT/limited/echo/42")
[ "$body" = '{"value":42}' ] || { log "enoki answered '$body' to /limited/echo/42"; exit 1; }
start_enoki "$TMP/enoki-plain.yaml" "$TMP/enoki-plain.log"
PLAIN_PID=$ENOKI_PID
wait_for_200 "http://127.0.0.1:$SPARE_PORT/readyz" "$PLAIN_PID" "the enoki without tracing"
W1_PID=""
W2_PID=""
if [ -z "$ONLY" ] || [ "$ONLY" = workers ]; then
    start_enoki "$TMP/enoki-w1.yaml" "$TMP/enoki-w1.log"
    W1_PID=$ENOKI_PID
    wait_for_200 "http://127.0.0.1:$W1_PORT/readyz" "$W1_PID" "the enoki of workers: 1"
    start_enoki "$TMP/enoki-w2.yaml" "$TMP/enoki-w2.log"
    W2_PID=$ENOKI_PID
    # Each worker connects on its own: both have once the log says so twice.
    for _ in $(seq 1 100); do
        [ "$(grep -c 'connected to' "$TMP/enoki-w2.log" || true)" -ge 2 ] && break
        sleep 0.1
    done
    wait_for_200 "http://127.0.0.1:$W2_PORT/readyz" "$W2_PID" "the enoki of workers: 2"
fi
BP=""
if [ -n "$BASELINE" ]; then
    start_enoki "$TMP/enoki-baseline.yaml" "$TMP/enoki-baseline.log" "$TMP/bin/enoki-baseline"
    BP=$ENOKI_PID
    wait_for_200 "http://127.0.0.1:$BASE_PORT/readyz" "$BP" "the baseline enoki"
    body=$(curl -s --max-time 10 "http://127.0.0.1:$BASE_PORT/echo/42")
    [ "$body" = '{"value":42}' ] || { log "the baseline answered '$body' to /echo/42"; exit 1; }
    log "baseline enoki ($BASELINE, its tree at $BASELINE_COMMIT) on :$BASE_PORT"
fi

NAMEKO_PID=""
if [ -n "${NAMEKO_SRC:-}" ]; then
    cat >"$TMP/bench_nameko_service.py" <<'EOF'
import json

from nameko.rpc import ServiceRpc
from nameko.web.handlers import http


class BenchNamekoGateway:
    """nameko's own gateway pattern: an @http entrypoint calling the backend over RPC."""

    name = "bench_nameko_gw"
    echo = ServiceRpc("bench_echo")

    @http("GET", "/echo/<int:value>")
    def get_echo(self, request, value):
        result = self.echo.echo(value=value)
        return 200, {"Content-Type": "application/json"}, json.dumps(result)
EOF
    cat >"$TMP/nameko.yaml" <<EOF
AMQP_URI: $URI
WEB_SERVER_ADDRESS: 127.0.0.1:$NAMEKO_PORT
EOF
    (cd "$TMP" && PYTHONPATH="$NAMEKO_SRC:$TMP" exec "${SERVER_CPU[@]}" "$PYTHON" -m nameko run \
        --config nameko.yaml bench_nameko_service >"$TMP/nameko.log" 2>&1) &
    NAMEKO_PID=$!
    PIDS+=("$NAMEKO_PID")
    wait_for_200 "http://127.0.0.1:$NAMEKO_PORT/echo/42" "$NAMEKO_PID" "the nameko service"
    log "nameko service (NAMEKO_SRC=$NAMEKO_SRC) on :$NAMEKO_PORT"
else
    log "NAMEKO_SRC not set: the nameko gateway row is skipped"
fi

# --- measurements --------------------------------------------------------------------------------
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
RESULTS="$TMP/results.txt"
: >"$RESULTS"
sed -n 's/^RESULT /jwt conc=1 run=1 /p' "$TMP/jwt_cost.out" >>"$RESULTS"
CLK_TCK=$(getconf CLK_TCK)

# A process's CPU ticks with its children's (GATEWAY.workers' workers; none for one process).
cpu_ticks() {
    local pid ticks=0
    for pid in "$1" $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo "$ticks"
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# A process's peak RSS during a run, without sampling it (a sampler forks while the latency is
# measured, and its stalls showed in the p99): the kernel's high-water mark, reset before the run
# ("5" to clear_refs, Linux 4.0) and read after it. Where the reset is refused, the peak is the
# process's since it started.
peak_rss_reset() { echo 5 2>/dev/null >"/proc/$1/clear_refs" || true; }
peak_rss_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# Runs wrk and appends "key conc=.. run=.. rps=.. p50_us=.. p99_us=.. requests=.. errors=.." plus
# the server's CPU per request (cpu_us) and peak RSS (rss_kb) when a pid is given.
wrk_run() { # key run conns url server_pid [lua script]
    local key=$1 run=$2 conns=$3 url=$4 pid=$5 script=${6:-} threads=2 out t0 t1
    [ "$conns" -lt 2 ] && threads=1
    out="$TMP/wrk.out"
    peak_rss_reset "$pid"
    t0=$(cpu_ticks "$pid")
    "${LOAD_CPU[@]}" wrk -t "$threads" -c "$conns" -d "${DURATION}s" --timeout 10s --latency \
        ${script:+-s "$script"} "$url" >"$out" 2>&1 || { cat "$out" >&2; exit 1; }
    t1=$(cpu_ticks "$pid")
    awk -v key="$key" -v run="$run" -v conns="$conns" -v ticks=$((t1 - t0)) -v hz="$CLK_TCK" \
        -v rss="$(peak_rss_kb "$pid")" '
        function us(v) {
            if (v ~ /us$/) return v + 0;
            if (v ~ /ms$/) return v * 1000;
            if (v ~ /s$/) return v * 1000000;
            return v + 0;
        }
        /^ +50%/ { p50 = us($2) }
        /^ +99%/ { p99 = us($2) }
        /requests in/ { requests = $1 }
        /^Requests\/sec:/ { rps = $2 }
        /Non-2xx or 3xx responses:/ { errors += $NF }
        /Socket errors:/ { gsub(/,/, ""); errors += $4 + $6 + $8 + $10 }
        END {
            printf "%s conc=%s run=%s rps=%s p50_us=%.0f p99_us=%.0f requests=%d errors=%d", \
                key, conns, run, rps, p50, p99, requests, errors;
            if (requests > 0) printf " cpu_us=%.1f", ticks / hz * 1e6 / requests;
            printf " rss_kb=%d\n", rss;
        }' "$out" >>"$RESULTS"
    tail -n 1 "$RESULTS" >&2
}

tool_run() { # key run conns command...: appends the tool's RESULT line with the key
    local key=$1 run=$2 conns=$3 out
    shift 3
    out=$("${LOAD_CPU[@]}" "$@" 2>"$TMP/tool.err") || { cat "$TMP/tool.err" >&2; exit 1; }
    echo "$out" | sed -n "s/^RESULT /$key conc=$conns run=$run /p" >>"$RESULTS"
    tail -n 1 "$RESULTS" >&2
}

# The websocket hub at 64 sockets, and the server's CPU per call (cpu_us). ws_bench counts the
# calls of its measured window only, so the CPU of the whole run (sockets opened, warm-up, window,
# drain) is divided by the calls of warm-up + window at the measured rate. Further arguments go to
# ws_bench (--payload, --deflate).
ws_run() { # key run port server_pid [ws_bench options...]
    local key=$1 run=$2 port=$3 pid=$4 t0 t1 cpu
    shift 4
    t0=$(cpu_ticks "$pid")
    tool_run "$key" "$run" 64 "$TOOLS/ws_bench" --port "$port" --sockets 64 --duration "$DURATION" \
        --warmup "$WARMUP" "$@"
    t1=$(cpu_ticks "$pid")
    cpu=$(tail -n 1 "$RESULTS" | awk -v ticks=$((t1 - t0)) -v hz="$CLK_TCK" -v d="$DURATION" -v w="$WARMUP" '
        { for (i = 2; i <= NF; i++) if ($i ~ /^rps=/) rps = substr($i, 5) + 0 }
        END { if (rps > 0) printf " cpu_us=%.1f", ticks / hz * 1e6 / (rps * (d + w)) }')
    sed -i "\$ s/\$/$cpu/" "$RESULTS"
    log "  $key: the server's CPU per call:$cpu"
}

# The ceiling of the same publishes as enoki's (issue 20), at 64: the C client's calls carry the
# context data of enoki's REST calls (rest: call_id_stack and traceparent) or of its hub calls (ws:
# also socket_id and gateway), as the main config's enoki sends them. The broker parses every header.
ceiling_same() { # run rest|ws
    tool_run "ceiling_$2" "$1" 64 "$TOOLS/rpc_ceiling" --uri "$URI" --inflight 64 \
        --duration "$DURATION" --warmup "$WARMUP" --delivery-mode "$DELIVERY_MODE" \
        --context "$2" --name enoki_bench
}

ENOKI_URL="http://127.0.0.1:$PORT/echo/42"
AMPH_URL="http://127.0.0.1:$PORT/amph/echo/42"
log "warming up"
wrk -t 2 -c 64 -d 1s "$ENOKI_URL" >/dev/null
wrk -t 2 -c 64 -d 1s "$AMPH_URL" >/dev/null
wrk -t 2 -c 64 -d 1s "http://127.0.0.1:$MHD_PORT/echo/42" >/dev/null
BASE_URL="http://127.0.0.1:$BASE_PORT/echo/42"
if [ -n "$BP" ]; then
    wrk -t 2 -c 64 -d 1s "$BASE_URL" >/dev/null
fi
"$TOOLS/rpc_ceiling" --uri "$URI" --inflight 64 --duration 1 --warmup 0 \
    --delivery-mode "$DELIVERY_MODE" >/dev/null

# The two measurements of a pair in the order of run $1: as given in odd runs, swapped in even ones,
# so that neither always comes first.
in_turn() { # run first second
    if [ $(($1 % 2)) = 1 ]; then echo "$2 $3"; else echo "$3 $2"; fi
}

# The measurements take turns within each run, so a slow moment of this shared machine touches
# all of them rather than one.
# The amphora echo and the nameko echo, at 64 connections, back to back on the same enoki: the nameko
# route first in odd runs, the amphora route first in even ones.
# Each row also gets its echo backend's CPU per request (backend_cpu_us).
pair_run() { # key run url backend_pid
    local t0 t1 cpu
    t0=$(cpu_ticks "$4")
    wrk_run "$1" "$2" 64 "$3" "$EP"
    t1=$(cpu_ticks "$4")
    cpu=$(tail -n 1 "$RESULTS" | awk -v ticks=$((t1 - t0)) -v hz="$CLK_TCK" '
        { for (i = 2; i <= NF; i++) if ($i ~ /^requests=/) n = substr($i, 10) + 0 }
        END { if (n > 0) printf " backend_cpu_us=%.1f", ticks / hz * 1e6 / n }')
    sed -i "\$ s/\$/$cpu/" "$RESULTS"
}
amphora_pair() { # run
    if [ $(($1 % 2)) = 1 ]; then
        pair_run pair_nameko "$1" "$ENOKI_URL" "$BACKEND_PID"
        pair_run pair_amphora "$1" "$AMPH_URL" "$AMPH_BACKEND_PID"
    else
        pair_run pair_amphora "$1" "$AMPH_URL" "$AMPH_BACKEND_PID"
        pair_run pair_nameko "$1" "$ENOKI_URL" "$BACKEND_PID"
    fi
}

# Tracing and a rate limit that never triggers (issue 19) against neither: the same REST route, on
# the main enoki (tracing on, its default; the route under a limit; a traceparent and a tracestate
# sent) and on one with tracing off and no limit, in alternating order.
traced_pair() { # run
    for which in $(in_turn "$1" plain traced); do
        if [ "$which" = plain ]; then
            wrk_run plain "$1" 64 "http://127.0.0.1:$SPARE_PORT/limited/echo/42" "$PLAIN_PID"
        else
            wrk_run traced_limited "$1" 64 "http://127.0.0.1:$PORT/limited/echo/42" "$EP" \
                "$TMP/traced.lua"
        fi
    done
    # Alone, the pair's ratio also counts the broker's work on the trace header in each publish:
    # the two ceilings say how much (the full run measures them anyway).
    if [ "$ONLY" = traced ]; then
        tool_run ceiling "$1" 64 "$TOOLS/rpc_ceiling" --uri "$URI" --inflight 64 \
            --duration "$DURATION" --warmup "$WARMUP" --delivery-mode "$DELIVERY_MODE"
        ceiling_same "$1" rest
    fi
}

# A required bearer token (issue 15) against none: the same echo on the main enoki, once behind
# `auth: required` and a scope with one RS256 token in every request (the cache answers it), once
# without, back to back in alternating order.
auth_pair() { # run
    for which in $(in_turn "$1" noauth auth); do
        if [ "$which" = noauth ]; then
            wrk_run enoki_noauth "$1" 64 "$ENOKI_URL" "$EP"
        else
            wrk_run enoki_auth "$1" 64 "http://127.0.0.1:$PORT/auth/echo/42" "$EP" "$TMP/auth.lua"
        fi
    done
}

# GATEWAY.workers 1 against 2 (issue 20): the same REST route at 64 connections, in alternating
# order. On a machine whose cores the broker and the load generator share, two workers cannot double
# anything: the row says what they do there.
workers_pair() { # run
    for w in $(in_turn "$1" 1 2); do
        local port_var="W${w}_PORT" pid_var="W${w}_PID"
        wrk_run "workers$w" "$1" 64 "http://127.0.0.1:${!port_var}/echo/42" "${!pid_var}"
    done
}

for run in $(seq 1 "$RUNS"); do
    log "run $run of $RUNS"
    if [ "$ONLY" = soak ]; then
        break
    fi
    if [ "$ONLY" = workers ]; then
        workers_pair "$run"
        continue
    fi
    if [ "$ONLY" = amphora ]; then
        amphora_pair "$run"
        continue
    fi
    if [ "$ONLY" = traced ]; then
        traced_pair "$run"
        continue
    fi
    if [ "$ONLY" = auth ]; then
        auth_pair "$run"
        continue
    fi
    for c in $CONNS; do
        wrk_run mhd "$run" "$c" "http://127.0.0.1:$MHD_PORT/echo/42" "$MHD_PID"
    done
    for c in $CONNS; do
        tool_run ceiling "$run" "$c" "$TOOLS/rpc_ceiling" --uri "$URI" --inflight "$c" \
            --duration "$DURATION" --warmup "$WARMUP" --delivery-mode "$DELIVERY_MODE"
    done
    for c in $CONNS; do
        [ "$QUICK" = 1 ] && [ "$c" != 64 ] && continue
        tool_run ceiling_other "$run" "$c" "$TOOLS/rpc_ceiling" --uri "$URI" --inflight "$c" \
            --duration "$DURATION" --warmup "$WARMUP" --delivery-mode "$OTHER_MODE"
    done
    # With --baseline, each enoki measurement is followed at once by the same on the baseline.
    for c in $CONNS; do
        wrk_run enoki "$run" "$c" "$ENOKI_URL" "$EP"
        if [ -n "$BP" ]; then
            wrk_run baseline "$run" "$c" "$BASE_URL" "$BP"
        fi
    done
    ceiling_same "$run" rest
    traced_pair "$run"
    workers_pair "$run"
    auth_pair "$run"
    amphora_pair "$run"
    wrk_run enoki_generic "$run" 64 "http://127.0.0.1:$PORT/rpc/bench_echo/echo" "$EP" "$TMP/post.lua"
    # The 4 KiB reply plain and gzip-coded, back to back, in alternating order.
    for coding in $(in_turn "$run" identity gzip); do
        wrk_run "big_$coding" "$run" 64 "http://127.0.0.1:$PORT/rpc/bench_echo/echo" "$EP" \
            "$TMP/big-$coding.lua"
    done
    if [ -n "$BP" ]; then
        wrk_run baseline_generic "$run" 64 "http://127.0.0.1:$BASE_PORT/rpc/bench_echo/echo" "$BP" \
            "$TMP/post.lua"
    fi
    ceiling_same "$run" ws
    ws_run ws "$run" "$PORT" "$EP"
    if [ -n "$BP" ]; then
        ws_run baseline_ws "$run" "$BASE_PORT" "$BP"
    fi
    # Calls carrying a 4 KiB string, plain and permessage-deflated, back to back, in alternating
    # order (the echo makes the answers as big).
    for ws_coding in $(in_turn "$run" plain deflate); do
        if [ "$ws_coding" = plain ]; then
            ws_run ws_big "$run" "$PORT" "$EP" --payload 4096
        else
            ws_run ws_big_deflate "$run" "$PORT" "$EP" --payload 4096 --deflate
        fi
    done
    if [ -n "$NAMEKO_PID" ]; then
        wrk_run nameko "$run" 64 "http://127.0.0.1:$NAMEKO_PORT/echo/42" "$NAMEKO_PID"
    fi
done

# enoki's own CPU profile during one more 64-connection run (not part of the figures): the REST
# route, and with --only amphora the amphora route too.
profile_run() { # name url [wrk script]
    log "profiling enoki (perf record -g) during a 64-connection run on $2"
    perf record -g -o "$TMP/perf-$1.data" -p "$EP" -- sleep "$DURATION" >"$TMP/perf-$1.log" 2>&1 &
    perf_pid=$!
    wrk -t 2 -c 64 -d "${DURATION}s" ${3:+-s "$3"} "$2" >/dev/null
    wait "$perf_pid" || { cat "$TMP/perf-$1.log" >&2; log "perf record failed"; }
    perf report -i "$TMP/perf-$1.data" --no-children -g none --sort dso,symbol --stdio 2>/dev/null |
        grep -E '^ +[0-9.]+%' | head -n 15 | sed 's/ *- *- *$//' >"$TMP/profile-$1.txt" || true
    perf report -i "$TMP/perf-$1.data" --no-children -g none --sort dso --stdio 2>/dev/null |
        grep -E '^ +[0-9.]+%' | head -n 8 | sed 's/ *- *- *$//' >"$TMP/profile-$1-dso.txt" || true
}
if [ "$PROFILE" = 1 ]; then
    profile_run rest "$ENOKI_URL"
    if [ "$ONLY" = amphora ]; then
        profile_run amphora "$AMPH_URL"
    fi
    if [ "$ONLY" = auth ]; then
        profile_run auth "http://127.0.0.1:$PORT/auth/echo/42" "$TMP/auth.lua"
    fi
fi

stop_pid "$PLAIN_PID" # its port is the spare enoki's from here on
if [ -z "$ONLY" ]; then
    # 256 busy connections on a fresh enoki (issue 20): the main enoki's RSS at 256 also holds what
    # its earlier rows left (the limiter's table, gzip's buffers), so the memory target is read here.
    for run in $(seq 1 "$RUNS"); do
        start_enoki "$TMP/enoki-spare.yaml" "$TMP/enoki-busy.log"
        wait_for_200 "http://127.0.0.1:$SPARE_PORT/readyz" "$ENOKI_PID" "enoki (256 busy connections)"
        wrk_run busy_fresh "$run" 256 "http://127.0.0.1:$SPARE_PORT/echo/42" "$ENOKI_PID"
        stop_pid "$ENOKI_PID"
    done

    # Idle websockets: a fresh enoki each time, so earlier load does not count in its RSS.
    for run in $(seq 1 "$RUNS"); do
        start_enoki "$TMP/enoki-spare.yaml" "$TMP/enoki-idle.log"
        wait_for_200 "http://127.0.0.1:$SPARE_PORT/readyz" "$ENOKI_PID" "enoki (idle websockets)"
        base=$(rss_kb "$ENOKI_PID")
        "${LOAD_CPU[@]}" "$TOOLS/ws_bench" --port "$SPARE_PORT" --mode idle --sockets "$IDLE_SOCKETS" \
            --hold 120 >"$TMP/idle.out" 2>"$TMP/idle.err" &
        idle_pid=$!
        PIDS+=("$idle_pid")
        for _ in $(seq 1 1200); do
            grep -q '^ready' "$TMP/idle.out" && break
            kill -0 "$idle_pid" 2>/dev/null || { cat "$TMP/idle.err" >&2; exit 1; }
            sleep 0.1
        done
        grep -q '^ready' "$TMP/idle.out" || { log "the idle sockets did not open"; exit 1; }
        sleep 1 # let the allocations settle
        rss=$(rss_kb "$ENOKI_PID")
        open_s=$(sed -n 's/.*opened in \([0-9.]*\) s.*/\1/p' "$TMP/idle.out")
        echo "ws_idle conc=$IDLE_SOCKETS run=$run rss_kb=$rss base_kb=$base open_s=$open_s" >>"$RESULTS"
        tail -n 1 "$RESULTS" >&2
        stop_pid "$idle_pid"
        stop_pid "$ENOKI_PID"
    done

    # Fan-out (issue 20): N sockets on one channel of a fresh enoki; 50 frames one at a time
    # (publish to the last socket's receipt), then a stream for $DURATION s; every socket's
    # sequence is checked. Broadcasts come as a Python service's RPC to enoki's nameko service,
    # events as nameko's event_dispatcher publishes them.
    # broadcast_w2 is the broadcast on an enoki of GATEWAY.workers 2 (the sockets spread over
    # two processes, each sending to its own; its RSS is both workers' peaks added).
    sed 's/^GATEWAY:$/GATEWAY:\n  channels: [fanout, fanout_svc.tick]/' "$TMP/enoki-spare.yaml" \
        >"$TMP/enoki-fanout.yaml"
    sed 's/^GATEWAY:$/GATEWAY:\n  workers: 2/' "$TMP/enoki-fanout.yaml" >"$TMP/enoki-fanout_w2.yaml"
    for run in $(seq 1 "$RUNS"); do
        for mode in broadcast event broadcast_w2; do
            n=$FANOUT_SOCKETS
            [ "$mode" = event ] && n=$FANOUT_EVENT_SOCKETS
            config="$TMP/enoki-fanout.yaml"
            [ "$mode" = broadcast_w2 ] && config="$TMP/enoki-fanout_w2.yaml"
            start_enoki "$config" "$TMP/enoki-fanout.log"
            wait_for_200 "http://127.0.0.1:$SPARE_PORT/readyz" "$ENOKI_PID" "enoki (fan-out)"
            "${CLIENT_CPU[@]}" "$TOOLS/fanout_bench" --port "$SPARE_PORT" --uri "$URI" \
                --name enoki_bench_spare --mode "${mode%_w2}" --sockets "$n" --rounds 50 \
                --seconds "$DURATION" >"$TMP/fanout.out" 2>"$TMP/fanout.err" ||
                { cat "$TMP/fanout.err" >&2; log "fan-out ($mode) failed"; exit 1; }
            hwm=0
            for pid in "$ENOKI_PID" $(cat /proc/"$ENOKI_PID"/task/*/children 2>/dev/null); do
                [ "$mode" = broadcast_w2 ] && [ "$pid" = "$ENOKI_PID" ] && continue # the supervisor
                hwm=$((hwm + $(peak_rss_kb "$pid")))
            done
            sed -n "s/^RESULT mode=[a-z]* sockets=[0-9]* /fanout_$mode conc=$n run=$run /p" \
                "$TMP/fanout.out" | sed "s/\$/ rss_kb=$hwm/" >>"$RESULTS"
            tail -n 1 "$RESULTS" >&2
            sed -n "s/^rounds_us/  fanout_$mode each round (us):/p" "$TMP/fanout.err" >&2
            stop_pid "$ENOKI_PID"
        done
        # The machine's floor beside them: one process sending a frame to each of as many loopback
        # sockets, no websocket library, no hub, on enoki's CPU, read from the clients' CPU.
        reader_cpu=()
        [ "${#CLIENT_CPU[@]}" -gt 0 ] && reader_cpu=(--reader-cpu "${CLIENT_CPU[2]}")
        "${SERVER_CPU[@]}" "$TOOLS/send_floor" --sockets "$FANOUT_SOCKETS" --rounds 50 \
            "${reader_cpu[@]}" >"$TMP/floor.out" 2>"$TMP/floor.err" ||
            { cat "$TMP/floor.err" >&2; log "send_floor failed"; exit 1; }
        sed -n "s/^RESULT mode=floor sockets=[0-9]* /fanout_floor conc=$FANOUT_SOCKETS run=$run /p" \
            "$TMP/floor.out" >>"$RESULTS"
        tail -n 1 "$RESULTS" >&2
        sed -n "s/^rounds_us/  fanout_floor each round (us):/p" "$TMP/floor.err" >&2
    done

    # Start-up: from exec to the first 200 on /healthz and on /readyz.
    "$TOOLS/startup_time" --port "$SPARE_PORT" --runs "$STARTUP_RUNS" --log "$TMP/enoki-startup.log" \
        -- "${SERVER_CPU[@]}" "$ENOKI" --config "$TMP/enoki-spare.yaml" >"$TMP/startup.out"
    sed -n 's/^RESULT /startup conc=1 run=1 /p' "$TMP/startup.out" >>"$RESULTS"
    tail -n 1 "$RESULTS" >&2

    # Route matching (bench/route_match.c; median of its own 7 runs).
    "$TOOLS/route_match" >"$TMP/routes.out"
    awk '$1 ~ /^[0-9]+$/ && NF >= 4 {printf "routes conc=%s run=1 hit_ns=%s miss_ns=%s m405_ns=%s\n", $1, $2, $3, $4}' \
        "$TMP/routes.out" >>"$RESULTS"
fi # --only skips the idle websockets, the start-up and route matching

# The soak (issue 20): bench/soak.py with an enoki, a backend and a vhost of its own, for
# $SOAK_MINUTES minutes of REST, websocket calls, broadcasts, sockets opened and closed and SIGHUPs;
# it prints enoki's RSS every 30 s and fails if a subscribed socket missed a broadcast.
if [ "$SOAK_MINUTES" -gt 0 ] && { [ "$ONLY" = soak ] || { [ -z "$ONLY" ] && [ "$QUICK" = 0 ]; }; }; then
    log "soak: $SOAK_MINUTES minutes (bench/soak.py)"
    "$PYTHON" bench/soak.py --minutes "$SOAK_MINUTES" --enoki "$ENOKI" --tools "$TOOLS" \
        >"$TMP/soak.out" 2>&1 || { cat "$TMP/soak.out" >&2; log "the soak failed"; exit 1; }
    cat "$TMP/soak.out" >&2
    sed -n "s/^soak: RSS after the warm-up \([0-9]*\) kB, at the end \([0-9]*\) kB, highest \([0-9]*\) kB; over the second half \([-+0-9]*\) kB\$/soak conc=16 run=1 minutes=$SOAK_MINUTES first_kb=\1 end_kb=\2 max_kb=\3 growth_kb=\4/p" \
        "$TMP/soak.out" >>"$RESULTS"
    grep -q '^soak conc=' "$RESULTS" || { log "the soak printed no summary"; exit 1; }
fi

# --- report --------------------------------------------------------------------------------------
MACHINE="$(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(uname -sr)"
"$PYTHON" - "$RESULTS" "$QUICK" "$RUNS" "$DURATION" "$MACHINE" "$COMMIT" "$JSON_OUT" \
    "$LOAD_START $(cut -d' ' -f1-3 /proc/loadavg)" "${NAMEKO_SRC:-}" "$PIN" "$TMP" \
    "$PREFETCH" "$DELIVERY_MODE" "$BASELINE" "$BASELINE_COMMIT" "$ONLY" <<'PYEOF'
import json, os, statistics, sys, time

(path, quick, runs, duration, machine, commit, json_out, loadavg, nameko_src, pin,
 tmpdir, prefetch, mode, baseline, baseline_commit, only) = sys.argv[1:17]
other = 3 - int(mode)
rows = {}
for line in open(path):
    parts = line.split()
    if not parts:
        continue
    fields = dict(p.split("=", 1) for p in parts[1:])
    key = (parts[0], int(fields.pop("conc")))
    fields.pop("run")
    for k, v in fields.items():
        try:
            rows.setdefault(key, {}).setdefault(k, []).append(float(v))
        except ValueError:  # a word, as rpc_ceiling's context=
            pass

def med(key, conc, field):
    v = rows.get((key, conc), {}).get(field)
    return statistics.median(v) if v else None

def concs(key):
    return sorted(c for k, c in rows if k == key)

C = med("ceiling", 64, "rps")
D = med("mhd", 64, "rps")
L = 1 / (1 / C + 1 / D) if C and D else None

def fmt_rps(v):
    return "-" if v is None else f"{v:,.0f}"

def fmt_ms(us):
    return "-" if us is None else f"{us / 1000:.2f}"

def ratio(a, b):
    return "-" if a is None or not b else f"{a / b:.2f}"

lines = []
out = lines.append
label = {
    "mhd": "bare libmicrohttpd, constant (D)",
    "ceiling": f"broker RPC ceiling, delivery_mode {mode} (C)",
    "ceiling_other": f"broker RPC ceiling, delivery_mode {other}",
    "ceiling_rest": "broker RPC ceiling, a REST call's headers",
    "ceiling_ws": "broker RPC ceiling, a hub call's headers",
    "enoki": "enoki REST GET /echo/<int:value>",
    "baseline": "baseline REST GET /echo/<int:value>",
    "enoki_noauth": "enoki REST, no auth (pair)",
    "enoki_auth": "enoki REST, auth: required (RS256 token)",
    "pair_nameko": "enoki REST, nameko echo (pair)",
    "pair_amphora": "enoki REST, amphora echo (pair)",
    "enoki_generic": "enoki generic POST /rpc/bench_echo/echo",
    "plain": "enoki REST, no tracing, no rate limit",
    "traced_limited": "enoki REST, traced, under a rate limit",
    "workers1": "enoki workers 1 REST GET /echo/<int:value>",
    "workers2": "enoki workers 2 REST GET /echo/<int:value>",
    "big_identity": "enoki generic, 4 KiB JSON reply, plain",
    "big_gzip": "enoki generic, 4 KiB JSON reply, gzip",
    "baseline_generic": "baseline generic POST /rpc/bench_echo/echo",
    "ws": "enoki websocket hub calls (sockets)",
    "ws_big": "enoki websocket, 4 KiB calls, plain",
    "ws_big_deflate": "enoki websocket, 4 KiB calls, deflate",
    "baseline_ws": "baseline websocket hub calls (sockets)",
    "nameko": "nameko @http + ServiceRpc (gateway)",
}
head = f"{'measurement':<42} {'conc':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'xL':>6} {'xC(n)':>6}  notes"
out(head)
out("-" * len(head))
figures = {"rows": []}
# With --baseline, each baseline row follows enoki's row of the same measurement and concurrency.
PAIRS = {"enoki": "baseline", "enoki_generic": "baseline_generic", "ws": "baseline_ws"}
order = []
for key in ["mhd", "ceiling", "ceiling_other", "ceiling_rest", "ceiling_ws", "enoki", "plain", "traced_limited", "workers1",
            "workers2", "enoki_noauth", "enoki_auth",
            "pair_nameko", "pair_amphora",
            "enoki_generic", "big_identity", "big_gzip", "ws", "ws_big", "ws_big_deflate", "nameko"]:
    for c in concs(key):
        order.append((key, c))
        if key in PAIRS and (PAIRS[key], c) in rows:
            order.append((PAIRS[key], c))
for key, c in order:
    rps, p50, p99 = med(key, c, "rps"), med(key, c, "p50_us"), med(key, c, "p99_us")
    notes = []
    cpu = med(key, c, "cpu_us")
    if key != "mhd" and not key.startswith("ceiling") and cpu is not None:
        notes.append(f"CPU {cpu:.0f} us/req")
    if key in ("enoki", "baseline") and c == max(concs(key)):
        notes.append(f"peak RSS {med(key, c, 'rss_kb') / 1024:.1f} MB")
    if key == "ws_big_deflate" and med(key, c, "deflate_out") is not None:
        notes.append(f"deflated to {med(key, c, 'deflate_out'):.2f} (calls), "
                     f"{med(key, c, 'deflate_in'):.2f} (answers)")
    if key == "pair_nameko":
        notes.append(f"requests delivery_mode {mode}")
    if key == "pair_amphora":
        notes.append(f"requests delivery_mode {mode} (GATEWAY.delivery_mode, as for nameko)")
    errors = sum(rows[(key, c)].get("errors", [0]))
    if errors:
        notes.append(f"{errors:.0f} errors")
    vs_c = None if key == "mhd" else med("ceiling", c, "rps")
    out(f"{label[key]:<42} {c:>5} {fmt_rps(rps):>9} {fmt_ms(p50):>8} {fmt_ms(p99):>8} "
        f"{ratio(rps, L):>6} {ratio(rps, vs_c):>6}  {', '.join(notes)}")
    figures["rows"].append({"measurement": key, "concurrency": c, "rps": rps, "p50_us": p50,
                            "p99_us": p99, "cpu_us_per_request": cpu,
                            "rss_kb": med(key, c, "rss_kb"), "errors": errors})
out("")
for c in concs("ws_idle"):
    rss, base, open_s = med("ws_idle", c, "rss_kb"), med("ws_idle", c, "base_kb"), med("ws_idle", c, "open_s")
    out(f"idle websockets: {c:,} open: enoki RSS {rss / 1024:.1f} MB (fresh: {base / 1024:.1f} MB; "
        f"{(rss - base) / c:.1f} KB per socket); opened in {open_s:.1f} s")
    figures["ws_idle"] = {"sockets": c, "rss_kb": rss, "base_kb": base, "open_s": open_s}
for c in concs("soak"):
    f = {k: med("soak", c, k) for k in ("minutes", "first_kb", "end_kb", "max_kb", "growth_kb")}
    out(f"soak ({f['minutes']:.0f} min of REST, websocket calls, broadcasts to {c} sockets, socket churn, "
        f"SIGHUPs): enoki RSS {f['first_kb'] / 1024:.1f} MB after the warm-up, {f['end_kb'] / 1024:.1f} MB "
        f"at the end, {f['max_kb'] / 1024:.1f} MB highest; {f['growth_kb']:+.0f} kB over the second half")
    figures["soak"] = f
for c in concs("busy_fresh"):
    out(f"busy HTTP connections: {c} on a fresh enoki: {fmt_rps(med('busy_fresh', c, 'rps'))} req/s, "
        f"enoki peak RSS {med('busy_fresh', c, 'rss_kb') / 1024:.1f} MB")
for fmode, what in (("broadcast", "broadcast (RPC to enoki's nameko service)"),
                    ("event", "nameko event"),
                    ("broadcast_w2", "broadcast on GATEWAY.workers 2")):
    key = "fanout_" + fmode
    for c in concs(key):
        f = {k: med(key, c, k)
             for k in ("p50_us", "p99_us", "max_us", "fps", "missing", "rss_kb", "first_us")}
        out(f"fan-out, {what} to {c:,} sockets: to the last socket p50 {f['p50_us'] / 1000:.1f} ms, "
            f"p99 {f['p99_us'] / 1000:.1f} ms (50 frames after 5 warm-up ones; the first of those "
            f"{f['first_us'] / 1000:.1f} ms); stream {f['fps']:,.0f} frames/s, "
            f"{f['missing']:.0f} sockets missed a frame; enoki peak RSS {f['rss_kb'] / 1024:.1f} MB")
        figures.setdefault("fanout", []).append(dict(f, mode=fmode, sockets=c))
for c in concs("fanout_floor"):
    f = {k: med("fanout_floor", c, k) for k in ("p50_us", "p99_us", "max_us", "first_us")}
    out(f"fan-out floor (bench/send_floor.c: one process, one send per socket, no websocket library) "
        f"to {c:,} loopback sockets: p50 {f['p50_us'] / 1000:.1f} ms, p99 {f['p99_us'] / 1000:.1f} ms "
        f"(the first warm-up round {f['first_us'] / 1000:.1f} ms)")
    figures["fanout_floor"] = dict(f, sockets=c)
for c in concs("routes"):
    out(f"route matching, {c:>4} routes: hit {med('routes', c, 'hit_ns'):.0f} ns, "
        f"miss {med('routes', c, 'miss_ns'):.0f} ns, 405 {med('routes', c, 'm405_ns'):.0f} ns per match")
    figures.setdefault("routes", []).append({"routes": c, "hit_ns": med("routes", c, "hit_ns"),
                                             "miss_ns": med("routes", c, "miss_ns"),
                                             "m405_ns": med("routes", c, "m405_ns")})
rs, es, cached = med("jwt", 1, "rs256_us"), med("jwt", 1, "es256_us"), med("jwt", 1, "cached_us")
if rs is not None:
    out(f"bearer token verification (bench/jwt_cost.c): cold RS256 {rs:.1f} us, cold ES256 {es:.1f} us, "
        f"cached {cached:.2f} us")
    figures["jwt"] = {"rs256_us": rs, "es256_us": es, "cached_us": cached}
h, r = med("startup", 1, "healthz_ms"), med("startup", 1, "readyz_ms")
if h is not None:
    out(f"start-up (exec to first 200, median): /healthz {h:.1f} ms, /readyz {r:.1f} ms")
    figures["startup"] = {"healthz_ms": h, "readyz_ms": r}
out("")
out(f"xL: req/s divided by L. xC(n): divided by the broker RPC ceiling (delivery_mode {mode}, as enoki")
out("sends) at the same concurrency. Medians of %s run(s) of %s s; p50/p99 from wrk --latency or the"
    % (runs, duration))
out("tool's own samples. Websocket CPU: the server's CPU over the whole ws_bench run per call.")
out("")

def run_by_run(key, base, field="rps", c=64):
    """Each run's key / base: rows measured back to back in every run."""
    a, b = rows.get((key, c), {}).get(field, []), rows.get((base, c), {}).get(field, [])
    return [x / y for x, y in zip(a, b) if y] if len(a) == len(b) else []

# This commit against --baseline: ratios of the medians, and the spread of the runs' own ratios
# (each run measures the two one right after the other).
if baseline:
    out(f"this commit ({commit}) / baseline ({baseline_commit}: {baseline}),")
    out("ratios of the medians; below 1 is fewer req/s, or less time and CPU (better):")
    head = f"{'measurement':<36} {'conc':>5} {'req/s':>7} {'p50':>7} {'p99':>7} {'CPU/req':>8}  req/s, each run"
    out(head)
    out("-" * len(head))
    what = {"enoki": "REST GET /echo/<int:value>", "enoki_generic": "generic POST /rpc/bench_echo/echo",
            "ws": "websocket hub calls (sockets)"}
    figures["baseline"] = {"binary": baseline, "tree_commit": baseline_commit, "ratios": []}
    for key, c in order:
        base = PAIRS.get(key)
        if base is None or (base, c) not in rows:
            continue
        r = {f: (lambda a, b: a / b if a is not None and b else None)(med(key, c, f), med(base, c, f))
             for f in ("rps", "p50_us", "p99_us", "cpu_us")}
        per_run = run_by_run(key, base, "rps", c)
        out(f"{what[key]:<36} {c:>5} " + " ".join(
            f"{'-' if r[f] is None else f'{r[f]:.3f}':>{w}}"
            for f, w in (("rps", 7), ("p50_us", 7), ("p99_us", 7), ("cpu_us", 8)))
            + "  " + " ".join(f"{x:.3f}" for x in per_run))
        figures["baseline"]["ratios"].append({"measurement": key, "concurrency": c,
                                              "rps": r["rps"], "p50_us": r["p50_us"],
                                              "p99_us": r["p99_us"], "cpu_us_per_request": r["cpu_us"],
                                              "rps_each_run": per_run})
    out("")
# The amphora echo against the nameko echo (issue 17): both routes on the same enoki, measured back
# to back in every run at 64 connections, in alternating order.
def pair_ratios(field):
    return run_by_run("pair_amphora", "pair_nameko", field)

def paired(key, base, goal):
    """A target on rows measured back to back in each run: judged by the median of the runs' own
    ratios, which the machine's drift from one run to the next does not move (the ratio of the two
    medians, which can pair one run's row with another's, is shown beside it)."""
    each = run_by_run(key, base)
    a, b = med(key, 64, "rps"), med(base, 64, "rps")
    if not each or not a or not b:
        return None
    r = statistics.median(each)
    return (f"{r:.2f} x (runs {' '.join(f'{x:.2f}' for x in each)}; medians' ratio {a / b:.2f})",
            None if goal is None else r >= goal)

def fmt_cpu(v):
    return "-" if v is None else f"{v:.1f}"

if ("pair_amphora", 64) in rows and ("pair_nameko", 64) in rows:
    out("amphora echo (GET /amph/echo/<int:value>, bench_amph) vs nameko echo (GET /echo/<int:value>,")
    out("bench_echo), 64 connections, back to back in each run (nameko first in odd runs); CPU us/req")
    out("is enoki's, backend the echo backend's (CPU per request):")
    head = (f"{'':<16} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU us/req':>11} {'backend':>8}"
            "  req/s, each run")
    out(head)
    out("-" * len(head))
    pair = {"concurrency": 64}
    for name, key in (("nameko", "pair_nameko"), ("amphora", "pair_amphora")):
        v = {f: med(key, 64, f) for f in ("rps", "p50_us", "p99_us", "cpu_us", "backend_cpu_us")}
        each = rows[(key, 64)]["rps"]
        out(f"{name:<16} {fmt_rps(v['rps']):>9} {fmt_ms(v['p50_us']):>8} {fmt_ms(v['p99_us']):>8} "
            f"{fmt_cpu(v['cpu_us']):>11} {fmt_cpu(v['backend_cpu_us']):>8}  "
            + " ".join(f"{x:,.0f}" for x in each))
        pair[name] = {"rps": v["rps"], "p50_us": v["p50_us"], "p99_us": v["p99_us"],
                      "cpu_us_per_request": v["cpu_us"],
                      "backend_cpu_us_per_request": v["backend_cpu_us"], "rps_each_run": each}
    r = {f: (lambda a, b: a / b if a is not None and b else None)(med("pair_amphora", 64, f),
                                                                 med("pair_nameko", 64, f))
         for f in ("rps", "p50_us", "p99_us", "cpu_us", "backend_cpu_us")}
    per_run = pair_ratios("rps")
    out(f"{'amphora/nameko':<16} " + " ".join(
        f"{'-' if r[f] is None else f'{r[f]:.3f}':>{w}}"
        for f, w in (("rps", 9), ("p50_us", 8), ("p99_us", 8), ("cpu_us", 11), ("backend_cpu_us", 8)))
        + "  " + " ".join(f"{x:.3f}" for x in per_run))
    pair["ratios"] = {"rps": r["rps"], "p50_us": r["p50_us"], "p99_us": r["p99_us"],
                      "cpu_us_per_request": r["cpu_us"],
                      "backend_cpu_us_per_request": r["backend_cpu_us"], "rps_each_run": per_run}
    pair["request_delivery_mode"] = {"nameko": int(mode), "amphora": 2}
    figures["amphora_vs_nameko"] = pair
    out("")
if L:
    out(f"L = 1/(1/C + 1/D) = 1/(1/{C:,.0f} + 1/{D:,.0f}) = {L:,.0f} req/s (C, D at 64)")
figures["L"] = L
figures["C"] = C
figures["C_rest"] = med("ceiling_rest", 64, "rps")
figures["C_ws"] = med("ceiling_ws", 64, "rps")
figures["D"] = D

targets = []
def target(name, measured, ok):
    targets.append({"target": name, "measured": measured, "met": ok})
    state = "n/a" if ok is None else ("met" if ok else "NOT MET")
    out(f"  {name:<50} {measured:<40} {state}")

out("targets:")
e64 = med("enoki", 64, "rps")
if e64 and L:
    target("enoki REST >= 0.85 x L at 64 connections", f"{e64:,.0f} req/s = {e64 / L:.2f} x L", e64 >= 0.85 * L)
p50_1 = med("enoki", 1, "p50_us")
if p50_1 is not None:
    target("p50 <= 0.4 ms at 1 connection", f"{p50_1 / 1000:.2f} ms", p50_1 <= 400)
p99_e, p99_c = med("enoki", 64, "p99_us"), med("ceiling", 64, "p99_us")
if p99_e is not None and p99_c:
    target("p99 at 64 <= 2 x the broker call's p99 at 64",
           f"{p99_e / 1000:.2f} ms vs 2 x {p99_c / 1000:.2f} ms ({p99_e / p99_c:.2f}x)", p99_e <= 2 * p99_c)
cpu = med("enoki", 64, "cpu_us")
if cpu is not None:
    target("<= 100 us of enoki CPU per request (at 64)", f"{cpu:.0f} us", cpu <= 100)
# Issue 20: the broker's own ceiling.
ws64 = med("ws", 64, "rps")
if e64 and C:
    target("issue 20: enoki REST >= 0.95 x C at 64", f"{e64 / C:.2f} x C", e64 >= 0.95 * C)
if ws64 and C:
    target("issue 20: websocket calls >= 0.95 x C at 64", f"{ws64 / C:.2f} x C", ws64 >= 0.95 * C)
# C of the same publishes: the C client's calls carry the headers of the row's own calls.
for key, same, what in (("enoki", "ceiling_rest", "enoki REST"), ("ws", "ceiling_ws", "ws calls")):
    a, b = med(key, 64, "rps"), med(same, 64, "rps")
    if a and b:
        target(f"issue 20: {what} >= 0.95 x C, same headers", f"{a / b:.2f} x {b:,.0f} ({b / C:.2f} x C)",
               a >= 0.95 * b)
if cpu is not None:
    target("issue 20: <= 30 us of enoki CPU per request (at 64)", f"{cpu:.0f} us", cpu <= 30)
c50_1 = med("ceiling", 1, "p50_us")
if p50_1 is not None and c50_1:
    target("issue 20: p50 at 1 <= 1.15 x C's p50", f"{p50_1 / 1000:.2f} ms = {p50_1 / c50_1:.2f} x C's",
           p50_1 <= 1.15 * c50_1)
if p99_e is not None and p99_c:
    target("issue 20: p99 at 64 <= 1.5 x C's p99", f"{p99_e / p99_c:.2f} x C's", p99_e <= 1.5 * p99_c)
ws99 = med("ws", 64, "p99_us")
if ws99 is not None and p99_c:
    target("issue 20: websocket p99 at 64 <= 1.5 x C's p99", f"{ws99 / p99_c:.2f} x C's",
           ws99 <= 1.5 * p99_c)
if 256 in concs("busy_fresh"):
    rss = med("busy_fresh", 256, "rss_kb")
    figures["busy_fresh"] = {"connections": 256, "rss_kb": rss, "rps": med("busy_fresh", 256, "rps")}
    target("<= 16 MB RSS at 256 busy connections (a fresh enoki)", f"{rss / 1024:.1f} MB (peak VmRSS)",
           rss <= 16 * 1024)
elif not only:
    target("<= 16 MB RSS at 256 connections", "not measured (--quick)", None)
sk = figures.get("soak")
if sk:
    # Flat: the second half grows by less than 2 % of the RSS after the warm-up.
    target(f"RSS flat over a {sk['minutes']:.0f}-minute mixed soak (second half < +2 %)",
           f"{sk['growth_kb']:+.0f} kB on {sk['first_kb'] / 1024:.1f} MB",
           sk["minutes"] >= 10 and sk["growth_kb"] < 0.02 * sk["first_kb"])
wi = figures.get("ws_idle")
if only:
    pass
elif wi and wi["sockets"] >= 10000:
    target("10,000 idle websockets in <= 50 MB RSS", f"{wi['rss_kb'] / 1024:.1f} MB",
           wi["rss_kb"] <= 50 * 1024)
else:
    target("10,000 idle websockets in <= 50 MB RSS",
           f"not measured ({wi['sockets'] if wi else 0:,} sockets opened)", None)
for fmode, want, what in (("broadcast", 10000, "a broadcast"), ("event", 1000, "a nameko event")):
    key = "fanout_" + fmode
    c = max(concs(key), default=0)
    if only:
        break
    if c < want:
        target(f"{what} to {want:,} sockets: p99 <= 50 ms, >= 200,000 frames/s",
               f"not measured ({c:,} sockets)", None)
        continue
    p99, fps, missing = med(key, c, "p99_us"), med(key, c, "fps"), med(key, c, "missing")
    floor = med("fanout_floor", c, "p99_us") if fmode == "broadcast" else None
    target(f"{what} to {want:,} sockets within 50 ms (p99 of 50)",
           f"{p99 / 1000:.1f} ms" + (f" (the floor's {floor / 1000:.1f} ms)" if floor else ""),
           p99 <= 50000)
    target(f"{what} stream to {want:,} sockets >= 200,000 frames/s, none missed",
           f"{fps:,.0f} frames/s, {missing:.0f} missed", fps >= 200000 and missing == 0)
p = paired("enoki_auth", "enoki_noauth", 0.9)
if p:
    target("auth: required route >= 0.9 x the same without auth (64, back to back)", *p)
p = paired("traced_limited", "plain", 0.95)
if p:
    target("traced + rate limit never hit >= 0.95 x neither (64)", *p)
    p = paired("ceiling_rest", "ceiling", None)
    if p:
        target("  the broker's part: C with a traceparent / C without", *p)
w1, w2, e64w = med("workers1", 64, "rps"), med("workers2", 64, "rps"), med("enoki", 64, "rps")
if w1 and e64w:
    target("workers 1 >= 0.95 x today's enoki row (REST at 64; the same process)",
           f"{w1 / e64w:.2f} x", w1 >= 0.95 * e64w)
p = paired("workers2", "workers1", None)
if p:
    target("workers 2 / workers 1 (REST at 64; no target on a shared 2-core machine)", *p)
bg, bi = med("big_gzip", 64, "rps"), med("big_identity", 64, "rps")
if bg and bi:
    cg, ci = med("big_gzip", 64, "cpu_us"), med("big_identity", 64, "cpu_us")
    target("gzip cost: 4 KiB JSON reply coded / plain (64)",
           f"{bg / bi:.2f} x req/s, +{cg - ci:.0f} us CPU/req", None)
wd, wp = med("ws_big_deflate", 64, "rps"), med("ws_big", 64, "rps")
if wd and wp:
    cd, cp = med("ws_big_deflate", 64, "cpu_us"), med("ws_big", 64, "cpu_us")
    target("deflate cost: websocket 4 KiB calls deflated / plain (64)",
           f"{wd / wp:.2f} x req/s, {cd - cp:+.0f} us CPU/call", None)
p = paired("pair_amphora", "pair_nameko", 0.9)
if p:
    target("amphora echo >= 0.90 x nameko echo (req/s at 64)", *p)
figures["targets"] = targets

for name, route in (("rest", "GET /echo/<int:value>"), ("amphora", "GET /amph/echo/<int:value>"),
                    ("auth", "GET /auth/echo/<int:value> with a token")):
    profile = os.path.join(tmpdir, f"profile-{name}.txt")
    if not (os.path.exists(profile) and os.path.getsize(profile)):
        continue
    out("")
    out(f"enoki profile (perf record, self time, 64 connections, {route}), by library:")
    dso = os.path.join(tmpdir, f"profile-{name}-dso.txt")
    if os.path.exists(dso):
        for line in open(dso):
            out("  " + line.rstrip())
    out("top 15 symbols:")
    for line in open(profile):
        out("  " + line.rstrip())

meta = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "machine": machine, "commit": commit,
        "runs": int(runs), "duration_s": int(duration), "quick": quick == "1",
        "loadavg_at_start": loadavg.split()[:3], "loadavg_at_end": loadavg.split()[3:6],
        "pinned": pin == "1", "split": pin == "split", "backend_prefetch": int(prefetch), "delivery_mode": int(mode),
        "nameko_src": nameko_src or None, "baseline": baseline or None,
        "baseline_tree_commit": baseline_commit or None}
if only:
    meta["only"] = only
print(f"enoki benchmark, {meta['date']}; {machine}; commit {commit}")
print(f"{'--quick; ' if quick == '1' else ''}delivery_mode {mode}; backend prefetch {prefetch}; load average "
      f"{' '.join(meta['loadavg_at_start'])} at the start, {' '.join(meta['loadavg_at_end'])} at the end"
      f"{'; pinned (--pin)' if pin == '1' else ''}"
      f"{'; split (--split: the broker and the backends on CPU 0, enoki and its load on CPU 1)' if pin == 'split' else ''}")
if baseline:
    print(f"baseline: {baseline} (the tree it sits in is at {baseline_commit}), measured right after enoki")
print()
print("\n".join(lines))
if json_out:
    figures["meta"] = meta
    with open(json_out, "w") as f:
        json.dump(figures, f, indent=2)
    print(f"\nfigures written to {json_out}")
PYEOF
FAILED=0
