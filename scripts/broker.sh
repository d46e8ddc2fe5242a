#!/usr/bin/env bash
# Makes sure a RabbitMQ broker answers on this machine: reuses one that is running, otherwise starts
# Debian's rabbitmq-server in the background and waits until `rabbitmqctl status` answers.
#   scripts/broker.sh          ensure it runs
set -euo pipefail

LOG=${ENOKI_BROKER_LOG:-/tmp/enoki-rabbitmq.log}
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

# The tests may use a broker elsewhere (ENOKI_TEST_AMQP_URI): then there is nothing to start here.
case "${ENOKI_TEST_AMQP_URI:-}" in
    ""|*@localhost*|*@127.0.0.1*|amqp://localhost*|amqp://127.0.0.1*) ;;
    *) echo "broker: using $ENOKI_TEST_AMQP_URI"; exit 0 ;;
esac

answers() {
    timeout 30 $SUDO rabbitmqctl -q status >/dev/null 2>&1
}

if answers; then
    echo "broker: reusing the RabbitMQ already running"
    exit 0
fi

# Debian's wrapper starts the server through `su`, whose session gets a soft limit of 1024 open
# files; a node that kept many durable queues from earlier runs then stalls recovering them. As root
# we start the server as the rabbitmq user ourselves (setpriv keeps the limits), raised to the hard
# limit. setsid: the broker must outlive this script and not take its signals.
start_server() {
    if [ "$(id -u)" -eq 0 ] && id -u rabbitmq >/dev/null 2>&1 && command -v setpriv >/dev/null &&
        [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
        hard=$(ulimit -Hn)
        [ "$hard" = unlimited ] && hard=65536
        ulimit -n "$hard" 2>/dev/null || true
        (cd /var/lib/rabbitmq &&
            HOME=/var/lib/rabbitmq exec setsid setpriv --reuid=rabbitmq --regid=rabbitmq \
                --init-groups /usr/lib/rabbitmq/bin/rabbitmq-server) >"$LOG" 2>&1 </dev/null &
    else
        $SUDO setsid rabbitmq-server >"$LOG" 2>&1 </dev/null &
    fi
}

echo "broker: starting rabbitmq-server (log: $LOG)"
start_server
# A deadline in seconds, not a count of tries: one `rabbitmqctl status` can itself take seconds.
deadline=$((SECONDS + ${ENOKI_BROKER_WAIT:-240}))
while [ "$SECONDS" -lt "$deadline" ]; do
    if answers; then
        echo "broker: up after ${SECONDS} s"
        exit 0
    fi
    sleep 1
done
echo "broker: rabbitmq-server did not answer within ${ENOKI_BROKER_WAIT:-240} s; its logs:" >&2
tail -n 30 "$LOG" >&2 || true
for node_log in /var/log/rabbitmq/rabbit@*.log; do
    [ -f "$node_log" ] || continue
    echo "--- $node_log" >&2
    tail -n 30 "$node_log" >&2 || true
done
exit 1
