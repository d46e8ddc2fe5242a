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

echo "broker: starting rabbitmq-server (log: $LOG)"
# setsid: the broker must outlive this script and not take its signals.
$SUDO setsid rabbitmq-server >"$LOG" 2>&1 < /dev/null &
for _ in $(seq 1 120); do
    if answers; then
        echo "broker: up"
        exit 0
    fi
    sleep 1
done
echo "broker: rabbitmq-server did not answer within 120 s; its log:" >&2
tail -n 50 "$LOG" >&2 || true
exit 1
