#!/bin/sh
# examples/openresty/run.sh: the OpenResty example against the local mock
# Dintero API, in one command (from anywhere):
#
#   examples/openresty/run.sh            # PORT=8080 by default
#
# Builds the C module for LuaJIT, starts the mock (bin/dintero-mock) on a free
# loopback port, gives the mock account a callback signature secret, writes
# nginx.conf from the template and runs nginx in the foreground on
# 127.0.0.1:$PORT. Ctrl-C stops nginx and the mock.
#
# Needs: nginx-light libnginx-mod-http-lua lua-resty-core luajit2
# libluajit2-5.1-dev lua5.4 lua-socket lua-cjson curl (make deps installs them).
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PORT=${PORT:-8080}
RUN=$(mktemp -d "${TMPDIR:-/tmp}/dintero-openresty.XXXXXX")
MOCK_PID=
NGINX_PID=

stop() {
  trap - INT TERM EXIT
  if [ -n "$NGINX_PID" ]; then kill "$NGINX_PID" 2>/dev/null || true; fi
  if [ -n "$MOCK_PID" ]; then kill "$MOCK_PID" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$RUN"
}
trap stop INT TERM EXIT

echo "building the C module for LuaJIT ..."
make -s -C "$ROOT" build LUA=luajit

# The mock prints its port on the first line.
lua5.4 "$ROOT/bin/dintero-mock" --port 0 --print-port --log >"$RUN/mock.port" 2>"$RUN/mock.log" &
MOCK_PID=$!
i=0
while [ ! -s "$RUN/mock.port" ]; do
  i=$((i + 1)); [ $i -gt 100 ] && { cat "$RUN/mock.log"; exit 1; }
  sleep 0.05
done
MOCK_URL="http://127.0.0.1:$(head -n 1 "$RUN/mock.port")"

# A token, then the account's callback signature secret (POST /v1/admin/signature).
json_field() { lua5.4 -e "local v = require('cjson').decode(io.read('a'))$1; io.write(v)"; }
TOKEN=$(curl -sf -u mock-client:mock-secret -H 'Content-Type: application/json' \
  -d '{"grant_type":"client_credentials","audience":"https://api.dintero.com/v1/accounts/T12345678"}' \
  "$MOCK_URL/v1/accounts/T12345678/auth/token" | json_field ".access_token")
SECRET=$(curl -sf -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{}' \
  "$MOCK_URL/v1/admin/signature" | json_field ".signature.secret")

mkdir -p "$RUN/tmp"
sed -e "s#@ROOT@#$ROOT#g" -e "s#@RUN@#$RUN#g" -e "s#@LISTEN@#127.0.0.1:$PORT#g" \
  "$ROOT/examples/openresty/nginx.conf" >"$RUN/nginx.conf"

export DINTERO_ACCOUNT_ID=T12345678 DINTERO_CLIENT_ID=mock-client DINTERO_CLIENT_SECRET=mock-secret
export DINTERO_API_URL="$MOCK_URL" DINTERO_CHECKOUT_URL="$MOCK_URL" DINTERO_SIGNATURE_SECRET="$SECRET"
export PUBLIC_URL="http://127.0.0.1:$PORT"

nginx -p "$RUN/" -c "$RUN/nginx.conf" -e stderr &
NGINX_PID=$!
sleep 0.3
kill -0 "$NGINX_PID" 2>/dev/null || { echo "nginx did not start"; exit 1; }

cat <<TXT

  shop (nginx)   $PUBLIC_URL/
  mock API       $MOCK_URL   (requests logged in $RUN/mock.log)

  try:
    curl -s '$PUBLIC_URL/checkout?amount=12900&ref=order-1&format=json'
    curl -s -H 'Content-Type: application/json' -d '{}' \
      $MOCK_URL/_mock/sessions/<session_id>/pay                    # the shopper pays
    curl -s '$PUBLIC_URL/receipt?merchant_reference=order-1'      # what the callback recorded

  Ctrl-C stops nginx and the mock.
TXT
wait "$NGINX_PID"
