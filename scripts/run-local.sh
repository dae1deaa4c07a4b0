#!/usr/bin/env bash
# Runs the platform on this machine: the embedded dev Kafka broker, every service that has been
# built, and a demo feed. Stays in the foreground; Ctrl-C (or SIGTERM) stops everything.
#
# Usage: scripts/run-local.sh [--fresh] [--no-build]
#   --fresh     wipe .run/ first (Kafka is in memory anyway; this drops the services' RocksDB data)
#   --no-build  skip scripts/build.sh and use the binaries as they are
# Environment:
#   LOYALTY_BIN_DIR        where the binaries are (default: build/release/bin)
#   LOYALTY_START_TIMEOUT  seconds each process gets to become ready (default: 60)
#
# All state lives under .run/ in the repository:
#   .run/bootstrap                the broker's bootstrap address
#   .run/devkafka/log             the broker's log
#   .run/<svc>/db, log, ports.json  each service's RocksDB, log and listening ports
#   .run/demo.log                 the demo feed's output
#   .run/pki/                     the local CA and certificates (scripts/pki.sh local)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$(pwd)"

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

fresh=0
build=1
for arg in "$@"; do
  case "$arg" in
    --fresh) fresh=1 ;;
    --no-build) build=0 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      echo "run-local: unknown argument: $arg" >&2
      usage >&2
      exit 2
      ;;
  esac
done

BIN="${LOYALTY_BIN_DIR:-build/release/bin}"
RUN=.run
START_TIMEOUT="${LOYALTY_START_TIMEOUT:-60}"

# service name, gRPC port, metrics port
SERVICES=(
  "accrual 50051 9464 8051"
  "redemption 50052 9465 8052"
  "referral 50053 9466 8053"
  "notification 50054 9467 8054"
)

# One copy at a time: a second one would fight over the ports and the RocksDB directories.
if [ -f "$RUN/run-local.pid" ]; then
  other="$(cat "$RUN/run-local.pid" 2>/dev/null || true)"
  if [ -n "$other" ] && [ "$other" != "$$" ] && kill -0 "$other" 2>/dev/null; then
    echo "run-local: already running as pid $other (stop it with Ctrl-C there, or: kill $other)" >&2
    exit 1
  fi
fi

if [ "$build" -eq 1 ]; then
  bash scripts/build.sh release
fi

if [ ! -x "$BIN/loyalty-devkafka" ]; then
  echo "run-local: $BIN/loyalty-devkafka is missing; build first (scripts/build.sh)" >&2
  exit 1
fi

if [ "$fresh" -eq 1 ]; then
  echo "run-local: --fresh: removing $ROOT/$RUN"
  rm -rf "$RUN"
fi
mkdir -p "$RUN"
echo "$$" >"$RUN/run-local.pid"

# Started processes, in start order (the broker first).
names=()
pids=()
logs=()

# Children get their own session: a Ctrl-C in the terminal then reaches only this script, which
# stops the services first and the broker last, instead of everything at once.
SETSID=()
if command -v setsid >/dev/null 2>&1; then SETSID=(setsid); fi

# start NAME LOG COMMAND...: starts COMMAND in the background with stdout+stderr to LOG.
start() {
  local name="$1" log="$2"
  shift 2
  mkdir -p "$(dirname "$log")"
  if [ -s "$log" ]; then mv -f "$log" "$log.1"; fi
  "${SETSID[@]}" "$@" >"$log" 2>&1 </dev/null &
  names+=("$name")
  pids+=("$!")
  logs+=("$log")
}

# show_log_tail INDEX: the last lines of a process's log, for a failure message.
show_log_tail() {
  local i="$1"
  echo "---- last lines of ${logs[$i]} ----" >&2
  tail -n 30 "${logs[$i]}" >&2 || true
  echo "----" >&2
}

# died INDEX WHEN: reports that process INDEX is gone, with its status and log, and exits 1.
died() {
  local i="$1" when="$2" status=0
  wait "${pids[$i]}" 2>/dev/null || status=$?
  echo "run-local: ${names[$i]} (pid ${pids[$i]}) exited $when with status $status" >&2
  show_log_tail "$i"
  exit 1
}

# wait_for_file INDEX FILE: waits until process INDEX has written FILE (non-empty).
wait_for_file() {
  local i="$1" file="$2"
  local deadline=$((SECONDS + START_TIMEOUT))
  while [ ! -s "$file" ]; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then died "$i" "during startup"; fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "run-local: ${names[$i]} did not write $file within ${START_TIMEOUT}s" >&2
      show_log_tail "$i"
      exit 1
    fi
    sleep 0.1
  done
}

# stop_pids PID...: SIGTERM, then up to 20 s to exit, then SIGKILL.
stop_pids() {
  local pid alive deadline=$((SECONDS + 20))
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  while :; do
    alive=()
    for pid in "$@"; do
      if kill -0 "$pid" 2>/dev/null; then alive+=("$pid"); fi
    done
    if [ ${#alive[@]} -eq 0 ]; then break; fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "run-local: still running after 20 s, killing: ${alive[*]}" >&2
      kill -KILL "${alive[@]}" 2>/dev/null || true
      break
    fi
    sleep 0.1
  done
  for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
}

stopped=0
cleanup() {
  if [ "$stopped" -eq 1 ]; then return; fi
  stopped=1
  trap '' INT TERM
  local i services=() broker=()
  for i in "${!pids[@]}"; do
    if [ "${names[$i]}" = devkafka ]; then broker+=("${pids[$i]}"); else services+=("${pids[$i]}"); fi
  done
  if [ ${#pids[@]} -gt 0 ]; then echo "run-local: stopping ${names[*]}" >&2; fi
  # Services first, so that they can still reach Kafka while they shut down.
  if [ ${#services[@]} -gt 0 ]; then stop_pids "${services[@]}"; fi
  if [ ${#broker[@]} -gt 0 ]; then stop_pids "${broker[@]}"; fi
  rm -f "$RUN/run-local.pid" "$RUN/bootstrap"
}
trap 'status=$?; cleanup; exit "$status"' EXIT
trap 'cleanup; exit 0' INT TERM

# --- the broker ------------------------------------------------------------------------------
rm -f "$RUN/bootstrap"
start devkafka "$RUN/devkafka/log" "$BIN/loyalty-devkafka" --bootstrap-file="$RUN/bootstrap"
wait_for_file 0 "$RUN/bootstrap"
bootstrap="$(head -n 1 "$RUN/bootstrap")"
echo "run-local: Kafka (embedded mock broker) at $bootstrap"

# --- certificates ----------------------------------------------------------------------------
# A local CA and a certificate per service, loyaltyctl and an example till (kept across runs):
# every gRPC call runs over mutual TLS, as in production (docs/security.md).
bash scripts/pki.sh local "$RUN/pki"
echo "run-local: certificates in $ROOT/$RUN/pki (CA ca.pem)"

# --- the services ----------------------------------------------------------------------------
started_services=()
for entry in "${SERVICES[@]}"; do
  read -r svc grpc_port metrics_port http_port <<<"$entry"
  if [ ! -x "$BIN/loyalty-$svc" ]; then continue; fi
  mkdir -p "$RUN/$svc"
  rm -f "$RUN/$svc/ports.json"
  start "$svc" "$RUN/$svc/log" "$BIN/loyalty-$svc" \
    --kafka.brokers="$bootstrap" \
    --data_dir="$RUN/$svc/db" \
    --grpc.address="127.0.0.1:$grpc_port" \
    --metrics.address="127.0.0.1:$metrics_port" \
    --http.address="127.0.0.1:$http_port" \
    --ports_file="$RUN/$svc/ports.json" \
    --grpc.tls.cert_file="$RUN/pki/$svc.pem" \
    --grpc.tls.key_file="$RUN/pki/$svc.key" \
    --grpc.tls.ca_file="$RUN/pki/ca.pem"
  started_services+=("$svc")
done
for i in "${!names[@]}"; do
  if [ "${names[$i]}" = devkafka ]; then continue; fi
  wait_for_file "$i" "$RUN/${names[$i]}/ports.json"
  echo "run-local: ${names[$i]} is up"
done
if [ ${#started_services[@]} -eq 0 ]; then
  echo "run-local: no service binaries in $BIN yet (looked for loyalty-{accrual,redemption,referral,notification})" >&2
fi

# port_of SVC KEY: a port from the service's ports.json ({"grpc":50051,"metrics":9464}).
port_of() {
  sed -n "s/.*\"$2\":\([0-9][0-9]*\).*/\1/p" "$RUN/$1/ports.json"
}

# --- the demo feed ---------------------------------------------------------------------------
accrual_up=0
for svc in "${started_services[@]}"; do
  if [ "$svc" = accrual ]; then accrual_up=1; fi
done
if [ -x "$BIN/loyaltyctl" ] && [ "$accrual_up" -eq 1 ]; then
  echo "run-local: demo feed (output also in $RUN/demo.log)"
  demo_status=0
  "$BIN/loyaltyctl" demo --accrual="127.0.0.1:$(port_of accrual grpc)" --brokers="$bootstrap" \
    --members=20 --purchases=200 2>&1 | tee "$RUN/demo.log" || demo_status=$?
  if [ "$demo_status" -ne 0 ]; then
    echo "run-local: warning: the demo feed failed (status $demo_status); the services keep running" >&2
  fi
else
  echo "run-local: skipping the demo feed (needs $BIN/loyaltyctl and loyalty-accrual)"
fi

# --- summary ---------------------------------------------------------------------------------
echo
echo "=== loyalty platform running locally (state in $ROOT/$RUN) ==="
echo "Kafka bootstrap:  $bootstrap   (also in $ROOT/$RUN/bootstrap; log $ROOT/$RUN/devkafka/log)"
for svc in "${started_services[@]}"; do
  printf '%-13s gRPC 127.0.0.1:%s   HTTP/JSON https://127.0.0.1:%s   metrics http://127.0.0.1:%s/metrics   log %s\n' \
    "$svc" "$(port_of "$svc" grpc)" "$(port_of "$svc" http)" "$(port_of "$svc" metrics)" \
    "$ROOT/$RUN/$svc/log"
done
echo
echo "Try (from $ROOT):"
if [ -x "$BIN/loyaltyctl" ]; then
  echo "  $BIN/loyaltyctl balance demo-0001"
  echo "  $BIN/loyaltyctl purchase demo-0001 12345     # 123.45 UAH, published to Kafka"
  echo "  $BIN/loyaltyctl history demo-0001 --limit=5"
  echo "  (loyaltyctl finds its certificate in $RUN/pki; elsewhere give --tls-cert, --tls-key, --tls-ca)"
fi
echo "  kcat -b $bootstrap -L"
echo "  kcat -b $bootstrap -C -t loyalty.events.v1 -o beginning -e"
if [ "$accrual_up" -eq 1 ]; then
  echo "  curl -s http://127.0.0.1:$(port_of accrual metrics)/metrics | grep -v '^#' | head"
  echo "  curl --cacert $RUN/pki/ca.pem --cert $RUN/pki/loyaltyctl.pem --key $RUN/pki/loyaltyctl.key \\"
  echo "       -H 'Content-Type: application/json' -d '{\"memberId\":\"demo-0001\"}' \\"
  echo "       https://127.0.0.1:$(port_of accrual http)/loyalty.v1.AccrualService/GetBalance"
  echo "  (the till's certificate may read balances but not adjust them: $RUN/pki/till-example.pem)"
fi
echo
echo "Ctrl-C stops everything."

# --- stay in the foreground ------------------------------------------------------------------
while :; do
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then died "$i" "unexpectedly"; fi
  done
  # A background sleep + wait lets the INT/TERM trap run at once.
  sleep 1 &
  wait $! || true
done
