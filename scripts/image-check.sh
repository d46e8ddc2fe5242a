#!/usr/bin/env bash
# scripts/image-check.sh - builds enoki's container image (Dockerfile) and checks it against the
# local RabbitMQ, with podman (no Docker engine, no registry: the base image is debootstrapped here).
#
#   scripts/image-check.sh        as root (or with sudo); CI runs it last in .ci/run
#
# 1. installs what is missing: podman & co. and the local base image localhost/debian:bookworm-slim
#    (through podman-local.sh when the machine has it, else the same steps below), python3-pika
#    for the test service, and starts (or reuses) the broker (scripts/broker.sh);
# 2. builds the image (its build stage runs the unit tests) and fails if it is 150 MB or more;
# 3. starts tests/peer/nameko_peer.py on the host with a unique exchange and service, then
#    a. the image's own config, everything from the environment (-e AMQP_URI, WEB_SERVER_ADDRESS,
#       RPC_EXCHANGE, GATEWAY_NAME, GATEWAY_EXPOSE): /healthz 200, /readyz 200 once connected,
#       the image's HEALTHCHECK, POST /rpc/<service>/echo, and a graceful stop (exit 0);
#    b. a config mounted at /etc/enoki/config.yaml with one route: GET /echo?greeting=hello, and
#       the docs page (/docs and its viewer's files) and /openapi.json;
# 4. removes the containers, the peer, the exchange and the queues it made (the image stays,
#    as localhost/enoki:check, so that the next build reuses its layers).
#
# Environment: ENOKI_IMAGE (tag, default localhost/enoki:check), ENOKI_CONTEXT (the build context,
# default the repository), PODMAN_LOCAL (default /work/shared/tools/podman-local.sh),
# ENOKI_IMAGE_MAX_BYTES (default 150000000).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
    exec sudo -E "$0" "$@"   # rootful podman
fi

TAG=${ENOKI_IMAGE:-localhost/enoki:check}
CONTEXT=${ENOKI_CONTEXT:-.}
MAX_BYTES=${ENOKI_IMAGE_MAX_BYTES:-150000000}
PODMAN_LOCAL=${PODMAN_LOCAL:-/work/shared/tools/podman-local.sh}
BASE_IMAGE=localhost/debian:bookworm-slim
AMQP=amqp://guest:guest@127.0.0.1:5672/
PY=/usr/bin/python3   # Debian's, with python3-pika (not a pyenv shim)
export CONTAINERS_CONF=${CONTAINERS_CONF:-/tmp/dk/containers.conf}
export DEBIAN_FRONTEND=noninteractive

T0=$(date +%s)
say() { printf 'image-check [%3ss]: %s\n' "$(($(date +%s) - T0))" "$*"; }
fail() { say "FAILED: $*" >&2; exit 1; }

# --- podman on this machine: podman-local.sh, or the same steps when it is not here ----------------

# The settings podman needs on these VMs (see podman-local.sh for why): rlimits the runtime may set
# without CAP_SYS_RESOURCE, runc (crun refuses the hybrid cgroup layout), cgroupfs, file events.
write_conf() {
    local nofile nproc
    nofile=$(ulimit -Hn); [ "$nofile" = unlimited ] && nofile=1048576
    nproc=$(ulimit -Hu); { [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; } && nproc=32768
    mkdir -p "$(dirname "$CONTAINERS_CONF")"
    cat > "$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
}

# debootstrap minbase with the host's apt sources and debuerreotype's apt tweaks, as debian:*-slim.
make_base() {
    local mirror rootfs
    rootfs=$(mktemp -d /tmp/enoki-base.XXXXXX)
    mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror"
    rm -f "$rootfs/etc/apt/sources.list"
    cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/"
    for f in docker-clean docker-gzip-indexes docker-no-languages docker-autoremove-suggests; do
        [ -f "/etc/apt/apt.conf.d/$f" ] && cp "/etc/apt/apt.conf.d/$f" "$rootfs/etc/apt/apt.conf.d/"
    done
    chroot "$rootfs" apt-get clean
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/*.log
    : > "$rootfs/etc/resolv.conf"; : > "$rootfs/etc/hostname"
    tar --numeric-owner --xattrs -C "$rootfs" -cf - . |
        podman import --change 'CMD ["bash"]' \
            --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            - "$BASE_IMAGE"
    podman tag "$BASE_IMAGE" localhost/debian:bookworm localhost/debian:12-slim localhost/debian:12
    rm -rf "$rootfs"
}

plocal() {
    if [ -x "$PODMAN_LOCAL" ]; then
        "$PODMAN_LOCAL" "$@"
        return
    fi
    case "$1" in
        setup) apt-get update -q
               apt-get install -y -q --no-install-recommends podman buildah runc debootstrap
               write_conf ;;
        base)  make_base ;;
        build) shift; podman build --pull=never --network host -t "$2" "${@:3}" "$1" ;;
    esac
}

have() { command -v "$1" >/dev/null 2>&1; }
if ! have podman || { ! podman image exists "$BASE_IMAGE" && ! have debootstrap; }; then
    say "installing podman (setup)"
    plocal setup
fi
[ -f "$CONTAINERS_CONF" ] || write_conf
if ! podman image exists "$BASE_IMAGE"; then
    say "no $BASE_IMAGE: debootstrapping it (base)"
    plocal base
fi

# --- the host side of the test: the broker and the peer's pika -------------------------------------

missing=()
for p in rabbitmq-server python3 python3-pika curl; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
scripts/broker.sh

# --- build ----------------------------------------------------------------------------------------------

say "building $TAG from $CONTEXT"
B0=$(date +%s)
# npm in the viewer stage trusts what the host's npm trusts (a TLS-inspecting proxy's CA).
SECRET=()
CAFILE=$(npm config get cafile 2>/dev/null || true)
if [ -n "$CAFILE" ] && [ "$CAFILE" != null ] && [ -s "$CAFILE" ]; then
    SECRET=(--secret "id=npm_ca,src=$CAFILE")
fi
plocal build "$CONTEXT" "$TAG" --format docker "${SECRET[@]}"   # docker format: OCI images have no HEALTHCHECK
SIZE=$(podman image inspect --format '{{.Size}}' "$TAG")
say "built in $(($(date +%s) - B0)) s; image size: $SIZE bytes ($((SIZE / 1000000)) MB, limit $((MAX_BYTES / 1000000)) MB)"
[ "$SIZE" -lt "$MAX_BYTES" ] || fail "the image is $SIZE bytes, the limit is $MAX_BYTES"

# --- run ------------------------------------------------------------------------------------------------

TOKEN=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
EXCHANGE=enoki-imgchk-$TOKEN
SERVICE=imgchk_$TOKEN
GATEWAY=enoki-imgchk-$TOKEN
WORK=$(mktemp -d /tmp/enoki-imgchk.XXXXXX)
chmod 755 "$WORK"
PODMAN_ERR=$WORK/podman.err   # podman's complaints that it has no systemd for healthcheck timers
CONTAINERS=()
PEER_PID=

cleanup() {
    local rc=$?
    set +e
    [ $rc -ne 0 ] && [ -s "$PODMAN_ERR" ] && { echo "--- podman stderr:"; tail -20 "$PODMAN_ERR"; }
    for c in "${CONTAINERS[@]}"; do
        if [ $rc -ne 0 ]; then
            echo "--- $c log (last 30 lines):"; podman logs "$c" 2>&1 | tail -30
        fi
        podman rm -f -t 2 "$c" >/dev/null 2>&1
    done
    if [ -n "$PEER_PID" ]; then
        kill -TERM "$PEER_PID" 2>/dev/null; wait "$PEER_PID" 2>/dev/null
        [ $rc -ne 0 ] && { echo "--- peer stderr:"; tail -20 "$WORK/peer.err"; }
    fi
    # Everything on the broker whose name holds this run's token: the exchange, rpc-<service>,
    # rpc-<gateway>, <gateway>.hub, the reply queues.
    "$PY" - "$TOKEN" <<'EOF'
import json, subprocess, sys
import pika
token = sys.argv[1]
def names(what):
    out = subprocess.run(["rabbitmqctl", "-q", what, "name", "--formatter", "json"],
                         capture_output=True, text=True, timeout=60)
    return [x["name"] for x in json.loads(out.stdout or "[]") if token in x["name"]]
conn = pika.BlockingConnection(pika.URLParameters("amqp://guest:guest@127.0.0.1:5672/%2F"))
for q in names("list_queues"):
    conn.channel().queue_delete(q)
for x in names("list_exchanges"):
    conn.channel().exchange_delete(x)
conn.close()
left = names("list_queues") + names("list_exchanges")
if left:
    sys.exit("image-check: left on the broker: {}".format(left))
EOF
    rm -rf "$WORK"
    if [ $rc -eq 0 ]; then say "OK"; else say "FAILED (exit $rc)"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Below the ephemeral range, reserved from the tests that run beside this check (CI).
free_port() {
    "$PY" tests/integration/ports.py 1
}

# status PORT PATH [curl args...]: the HTTP status, 000 when nothing answers.
status() {
    local port=$1 path=$2; shift 2
    curl -s -o "$WORK/body" -w '%{http_code}' --max-time 5 "$@" "http://127.0.0.1:$port$path" || true
}

# wait_status NAME PORT PATH CODE SECONDS
wait_status() {
    local name=$1 port=$2 path=$3 want=$4 secs=$5 got=000
    for _ in $(seq 1 $((secs * 5))); do
        got=$(status "$port" "$path")
        [ "$got" = "$want" ] && { say "$path -> $got"; return 0; }
        [ "$(podman inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" = true ] ||
            fail "$name exited before $path answered $want"
        sleep 0.2
    done
    fail "$path answered $got, not $want, within $secs s"
}

# expect_json FILE JSON: FILE holds that JSON value.
expect_json() {
    "$PY" - "$1" "$2" <<'EOF' || fail "unexpected body: $(cat "$1")"
import json, sys
sys.exit(json.load(open(sys.argv[1])) != json.loads(sys.argv[2]))
EOF
}

say "starting the test service $SERVICE on exchange $EXCHANGE"
"$PY" tests/peer/nameko_peer.py --amqp-uri "$AMQP" --exchange "$EXCHANGE" --service "$SERVICE" \
    > "$WORK/peer.out" 2> "$WORK/peer.err" &
PEER_PID=$!
for _ in $(seq 1 100); do
    grep -qx ready "$WORK/peer.out" && break
    kill -0 "$PEER_PID" 2>/dev/null || fail "the peer exited: $(cat "$WORK/peer.err")"
    sleep 0.2
done
grep -qx ready "$WORK/peer.out" || fail "the peer is not ready after 20 s"

# a. The image as it is: its config, every value from the environment.
PORT=$(free_port)
NAME=enoki-imgchk-env-$TOKEN
CONTAINERS+=("$NAME")
say "running $NAME on 127.0.0.1:$PORT (the image's config)"
podman run -d --name "$NAME" --network host \
    -e AMQP_URI="$AMQP" -e WEB_SERVER_ADDRESS="127.0.0.1:$PORT" -e RPC_EXCHANGE="$EXCHANGE" \
    -e GATEWAY_NAME="$GATEWAY" -e GATEWAY_EXPOSE="[$SERVICE.*]" "$TAG" >/dev/null 2>>"$PODMAN_ERR"
wait_status "$NAME" "$PORT" /healthz 200 30
wait_status "$NAME" "$PORT" /readyz 200 30
podman healthcheck run "$NAME" >/dev/null 2>>"$PODMAN_ERR" || fail "the image's HEALTHCHECK did not pass"
say "HEALTHCHECK (enoki --probe) -> healthy"
got=$(status "$PORT" "/rpc/$SERVICE/echo" -X POST -H 'Content-Type: application/json' \
    -d '{"args": [1], "kwargs": {"x": 2}}')
[ "$got" = 200 ] || fail "POST /rpc/$SERVICE/echo -> $got: $(cat "$WORK/body")"
expect_json "$WORK/body" '{"args": [1], "kwargs": {"x": 2}}'
say "POST /rpc/$SERVICE/echo -> 200 $(cat "$WORK/body")"
podman stop -t 20 "$NAME" >/dev/null 2>>"$PODMAN_ERR"
code=$(podman inspect -f '{{.State.ExitCode}}' "$NAME")
[ "$code" = 0 ] || fail "enoki exited with $code on SIGTERM, not 0"
say "stopped: SIGTERM -> exit 0"

# b. A config of one's own, mounted over /etc/enoki/config.yaml.
PORT=$(free_port)
NAME=enoki-imgchk-mount-$TOKEN
CONTAINERS+=("$NAME")
cat > "$WORK/gateway.yaml" <<EOF
AMQP_URI: \${AMQP_URI:amqp://guest:guest@localhost:5672/}
WEB_SERVER_ADDRESS: \${WEB_SERVER_ADDRESS:0.0.0.0:8000}
rpc_exchange: $EXCHANGE

GATEWAY:
  name: $GATEWAY
  openapi_path: /openapi.json
  docs_path: /docs

routes:
  - rule: /echo
    methods: GET,POST
    rpc: $SERVICE.echo
EOF
chmod 644 "$WORK/gateway.yaml"
say "running $NAME on 127.0.0.1:$PORT (a mounted config with the route /echo -> $SERVICE.echo)"
podman run -d --name "$NAME" --network host \
    -v "$WORK/gateway.yaml:/etc/enoki/config.yaml:ro" \
    -e AMQP_URI="$AMQP" -e WEB_SERVER_ADDRESS="127.0.0.1:$PORT" "$TAG" >/dev/null 2>>"$PODMAN_ERR"
wait_status "$NAME" "$PORT" /readyz 200 30
got=$(status "$PORT" "/echo?greeting=hello")
[ "$got" = 200 ] || fail "GET /echo -> $got: $(cat "$WORK/body")"
expect_json "$WORK/body" '{"args": [], "kwargs": {"greeting": "hello"}}'
say "GET /echo?greeting=hello -> 200 $(cat "$WORK/body")"
got=$(status "$PORT" /static/enoki.js)
[ "$got" = 200 ] || fail "GET /static/enoki.js -> $got"
say "GET /static/enoki.js -> 200"
# The docs page, with the viewer the image's build installed (GATEWAY.docs_dir's default, viewer,
# is /usr/share/enoki/viewer from the image's working directory).
for path in /docs /docs/swagger-ui-bundle.js /docs/swagger-ui.css /openapi.json; do
    got=$(status "$PORT" "$path")
    [ "$got" = 200 ] || fail "GET $path -> $got"
done
say "GET /docs, its viewer's files and /openapi.json -> 200"
podman stop -t 20 "$NAME" >/dev/null 2>>"$PODMAN_ERR"

# c. No broker: the process serves (/healthz, HEALTHCHECK) but is not ready (/readyz 503).
PORT=$(free_port)
NAME=enoki-imgchk-nobroker-$TOKEN
CONTAINERS+=("$NAME")
say "running $NAME on 127.0.0.1:$PORT with AMQP_URI pointing at a closed port"
podman run -d --name "$NAME" --network host -e AMQP_URI=amqp://guest:guest@127.0.0.1:1/ \
    -e WEB_SERVER_ADDRESS="127.0.0.1:$PORT" -e GATEWAY_NAME="$GATEWAY" "$TAG" >/dev/null 2>>"$PODMAN_ERR"
wait_status "$NAME" "$PORT" /healthz 200 30
podman healthcheck run "$NAME" >/dev/null 2>>"$PODMAN_ERR" || fail "HEALTHCHECK failed without a broker"
say "HEALTHCHECK without a broker -> healthy"
got=$(status "$PORT" /readyz)
[ "$got" = 503 ] || fail "/readyz without a broker -> $got, not 503"
say "/readyz without a broker -> 503"
podman stop -t 20 "$NAME" >/dev/null 2>>"$PODMAN_ERR"

say "image $TAG: $SIZE bytes; checks passed"
