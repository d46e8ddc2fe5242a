#!/usr/bin/env bash
# `make demo`: installs what is missing, starts a local RabbitMQ (or reuses one), a demo service that
# speaks nameko's wire protocol, and enoki with examples/gateway.yaml; prints curl lines to try, and
# stops everything on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/broker.sh
make -s all viewer

PORT=${ENOKI_DEMO_PORT:-8000}
/usr/bin/python3 tests/peer/nameko_peer.py --amqp-uri amqp://guest:guest@localhost:5672/ \
    --exchange nameko-rpc --service http_service > /tmp/enoki-demo-service.log 2>&1 &
SERVICE=$!
build/enoki --config examples/gateway.yaml --define "WEB_SERVER_ADDRESS=127.0.0.1:$PORT" &
ENOKI=$!
trap 'kill $ENOKI $SERVICE 2>/dev/null; wait $ENOKI $SERVICE 2>/dev/null; echo; echo "demo stopped"' EXIT
trap 'exit 0' INT TERM

for _ in $(seq 1 50); do
    if grep -q ready /tmp/enoki-demo-service.log 2>/dev/null && curl -s -o /dev/null "localhost:$PORT/"; then
        break
    fi
    sleep 0.2
done

cat <<TRY

enoki is listening on http://localhost:$PORT, in front of the demo service "http_service".
Try, from another terminal:

  curl -i localhost:$PORT/get/42
  curl -i 'localhost:$PORT/echo?greeting=hello&tag=a&tag=b'
  curl -i -X POST localhost:$PORT/echo -H 'Content-Type: application/json' -d '{"name": "enoki"}'
  curl -i localhost:$PORT/fail
  curl -i localhost:$PORT/nowhere
  curl -i -X POST localhost:$PORT/rpc/http_service/echo -H 'Content-Type: application/json' -d '{"args": [1]}'

In a browser, http://localhost:$PORT/static/demo.html calls the service over the websocket hub
(try http_service.echo with {"x": 1}) and watches a channel; http://localhost:$PORT/docs shows the
routes' OpenAPI document (try them out there), http://localhost:$PORT/status what enoki is doing.

Ctrl-C stops the demo.
TRY
wait $ENOKI
