#!/usr/bin/env bash
# A real Apache Kafka cluster (KRaft, combined broker+controller nodes) on loopback, for the
# realkafka tests and local runs against a real broker.
#
# usage: scripts/kafka.sh start [--brokers=1|3]   fetch (once), format, start, create topics
#        scripts/kafka.sh stop                    stop the nodes this script started
#        scripts/kafka.sh status                  exit 0 when running (prints the nodes)
#        scripts/kafka.sh bootstrap               print the bootstrap.servers list
#        scripts/kafka.sh sasl-ssl                print the librdkafka properties of the
#                                                 SASL_SSL listener (kcat -F reads them)
#        scripts/kafka.sh classpath               fetch (once); print the jars' class path
#        scripts/kafka.sh start-node N            start node N again on its data (after a
#                                                 fault test killed it); no-op when running
#
# The broker comes from Maven Central: tools/kafka/pom.xml, fetched with
# `mvn dependency:copy-dependencies` into $LOYALTY_KAFKA_CACHE/<version> (once). Each start
# formats fresh storage, so a cluster starts empty. Idempotent: start while running does
# nothing, stop when stopped does nothing; stop only signals the pids in its own pid files.
#
# Every node has two client listeners: PLAINTEXT on PORT+i-1 (what the tests use) and SASL_SSL
# on PORT+300+i-1, mechanism PLAIN, one user (SASL_USER / SASL_PASSWORD below), with a
# self-signed server certificate (SAN 127.0.0.1 and localhost) made once with keytool into
# $LOYALTY_KAFKA_CACHE/tls; its PEM is the CA file clients verify the brokers with.
#
# Environment:
#   LOYALTY_KAFKA_DIR         state (config, data, logs, pid files); default /tmp/loyalty-kafka
#   LOYALTY_KAFKA_CACHE       jar cache; default ~/.cache/loyalty-kafka
#   LOYALTY_KAFKA_PORT        first client port (default 19092); node i listens on PORT+i-1
#                             for PLAINTEXT clients, PORT+300+i-1 for SASL_SSL clients and
#                             PORT+100+i-1 for the controller quorum
#   LOYALTY_KAFKA_PARTITIONS  partitions per platform topic (default 4, as the dev broker)
#   LOYALTY_KAFKA_HEAP        JVM heap per node (default 384m)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE="${LOYALTY_KAFKA_DIR:-/tmp/loyalty-kafka}"
CACHE="${LOYALTY_KAFKA_CACHE:-$HOME/.cache/loyalty-kafka}"
PORT="${LOYALTY_KAFKA_PORT:-19092}"
PARTITIONS="${LOYALTY_KAFKA_PARTITIONS:-4}"
HEAP="${LOYALTY_KAFKA_HEAP:-384m}"
POM="$ROOT/tools/kafka/pom.xml"
VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")"
JARS="$CACHE/$VERSION"
TLS="$CACHE/tls"
# The test user of the SASL_SSL listener; fixed, as the cluster is for tests and trials only.
SASL_USER=loyalty
SASL_PASSWORD=loyalty-secret
# The broker's keystore password (the keystore is a test fixture, not a secret).
KEYSTORE_PASSWORD=loyalty-keystore

# The platform's topics, as tools/devkafka creates them.
TOPICS=(
  loyalty.purchases.v1 loyalty.refunds.v1 loyalty.activities.v1 loyalty.events.v1
  loyalty.purchases.v1.dlq loyalty.refunds.v1.dlq loyalty.activities.v1.dlq
  loyalty.events.v1.dlq loyalty.apikeys.v1:compact
)

die() {
  echo "kafka.sh: $*" >&2
  exit 1
}

client_port() { echo $((PORT + $1 - 1)); }
controller_port() { echo $((PORT + 100 + $1 - 1)); }
sasl_ssl_port() { echo $((PORT + 300 + $1 - 1)); }

bootstrap_list() {
  local n="$1" list="" i
  for ((i = 1; i <= n; i++)); do list+="${list:+,}127.0.0.1:$(client_port "$i")"; done
  echo "$list"
}

# Whether pid runs: a process killed a moment ago stays a zombie until init reaps it, and
# kill -0 still succeeds on a zombie.
alive() {
  local stat
  stat="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  [ -n "$stat" ] && [ "${stat:0:1}" != Z ]
}

sasl_ssl_list() {
  local n="$1" list="" i
  for ((i = 1; i <= n; i++)); do list+="${list:+,}127.0.0.1:$(sasl_ssl_port "$i")"; done
  echo "$list"
}

# Node ids whose pid file names a live process.
alive_nodes() {
  local f pid
  for f in "$STATE"/node*.pid; do
    [ -e "$f" ] || continue
    pid="$(cat "$f")"
    if alive "$pid"; then basename "$f" .pid; fi
  done
}

fetch() {
  if [ -e "$JARS/.complete" ]; then return; fi
  command -v mvn >/dev/null || die "mvn not found (scripts/install-deps.sh installs maven)"
  echo "kafka.sh: fetching Apache Kafka $VERSION into $JARS" >&2
  rm -rf "$JARS"
  mkdir -p "$JARS"
  mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies -DoutputDirectory="$JARS" >&2
  touch "$JARS/.complete"
}

# The brokers' key and self-signed certificate (keystore.p12) and the certificate as PEM for
# clients (ca.pem), made once: built in a temporary folder and moved into place, so that a
# concurrent start never sees half of it.
make_tls() {
  if [ -e "$TLS/ca.pem" ] && [ -e "$TLS/keystore.p12" ]; then return; fi
  command -v keytool >/dev/null || die "keytool not found (part of openjdk-17)"
  mkdir -p "$CACHE"
  local tmp
  tmp="$(mktemp -d "$CACHE/tls.XXXXXX")"
  # bc:c makes the self-signed certificate its own CA, so clients can trust it as ca.pem.
  keytool -genkeypair -noprompt -alias broker -keyalg RSA -keysize 2048 -validity 3650 \
    -dname "CN=localhost, O=loyalty test cluster" -ext "SAN=ip:127.0.0.1,dns:localhost" \
    -ext bc:c -storetype PKCS12 -keystore "$tmp/keystore.p12" \
    -storepass "$KEYSTORE_PASSWORD" -keypass "$KEYSTORE_PASSWORD" >"$tmp/keytool.log" 2>&1 ||
    die "keytool -genkeypair failed: $(cat "$tmp/keytool.log")"
  keytool -exportcert -rfc -alias broker -keystore "$tmp/keystore.p12" \
    -storepass "$KEYSTORE_PASSWORD" -file "$tmp/ca.pem" >>"$tmp/keytool.log" 2>&1 ||
    die "keytool -exportcert failed: $(cat "$tmp/keytool.log")"
  if [ -e "$TLS/ca.pem" ]; then
    rm -rf "$tmp"  # another start made it meanwhile
  else
    mv -T "$tmp" "$TLS" 2>/dev/null || rm -rf "$tmp"
  fi
}

write_config() {
  local id="$1" n="$2" voters="" i
  for ((i = 1; i <= n; i++)); do voters+="${voters:+,}$i@127.0.0.1:$(controller_port "$i")"; done
  local rf=$n min_isr=1
  if [ "$n" -ge 3 ]; then min_isr=2; fi
  cat >"$STATE/node$id.properties" <<EOF
# Written by scripts/kafka.sh: node $id of $n (broker and controller in one process).
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$(client_port "$id"),CONTROLLER://127.0.0.1:$(controller_port "$id"),SASL_SSL://127.0.0.1:$(sasl_ssl_port "$id")
advertised.listeners=PLAINTEXT://127.0.0.1:$(client_port "$id"),SASL_SSL://127.0.0.1:$(sasl_ssl_port "$id")
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL
# Clients only (the brokers speak PLAINTEXT among themselves): SASL/PLAIN over TLS, one user.
listener.name.sasl_ssl.sasl.enabled.mechanisms=PLAIN
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SASL_USER="$SASL_PASSWORD";
listener.name.sasl_ssl.ssl.keystore.type=PKCS12
listener.name.sasl_ssl.ssl.keystore.location=$TLS/keystore.p12
listener.name.sasl_ssl.ssl.keystore.password=$KEYSTORE_PASSWORD
listener.name.sasl_ssl.ssl.key.password=$KEYSTORE_PASSWORD
log.dirs=$STATE/data$id
# Topics exist only when created (as in production): a typo must fail, not create a topic.
auto.create.topics.enable=false
num.partitions=$PARTITIONS
default.replication.factor=$rf
min.insync.replicas=$min_isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$min_isr
unclean.leader.election.enable=false
group.initial.rebalance.delay.ms=0
delete.topic.enable=true
# Small for a 2-core machine running up to three nodes beside the tests.
num.network.threads=2
num.io.threads=2
background.threads=2
num.replica.fetchers=1
num.recovery.threads.per.data.dir=1
log.cleaner.threads=1
log.segment.bytes=16777216
log.retention.check.interval.ms=60000
EOF
}

JAVA=(java -Xms64m "-Xmx$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
  "-Dlog4j2.configurationFile=$ROOT/tools/kafka/log4j2.properties" -cp "$JARS/*")

start() {
  local n=1 arg
  for arg in "$@"; do
    case "$arg" in
      --brokers=1 | --brokers=3) n="${arg#--brokers=}" ;;
      *) die "start: unknown argument $arg (use --brokers=1 or --brokers=3)" ;;
    esac
  done
  local alive
  alive="$(alive_nodes)"
  if [ -n "$alive" ]; then
    local running
    running="$(cat "$STATE/brokers" 2>/dev/null || echo "?")"
    [ "$running" = "$n" ] || die "a $running-node cluster is running: stop it first"
    echo "kafka.sh: already running ($(bootstrap_list "$n"))" >&2
    return
  fi
  command -v java >/dev/null || die "java not found (scripts/install-deps.sh installs openjdk-17)"
  fetch
  make_tls
  rm -rf "$STATE"
  mkdir -p "$STATE"
  echo "$n" >"$STATE/brokers"
  local cluster_id id
  cluster_id="$("${JAVA[@]}" kafka.tools.StorageTool random-uuid)"
  for ((id = 1; id <= n; id++)); do
    write_config "$id" "$n"
      "${JAVA[@]}" kafka.tools.StorageTool format --config "$STATE/node$id.properties" \
      --cluster-id "$cluster_id" --ignore-formatted >"$STATE/format$id.log" 2>&1 ||
      die "format of node $id failed: $(cat "$STATE/format$id.log")"
  done
  for ((id = 1; id <= n; id++)); do
    # setsid: the nodes outlive this shell and a Ctrl-C of the caller's terminal.
      setsid "${JAVA[@]}" kafka.Kafka "$STATE/node$id.properties" >"$STATE/node$id.log" 2>&1 &
    echo $! >"$STATE/node$id.pid"
  done
  local rf=$n min_isr=1
  if [ "$n" -ge 3 ]; then min_isr=2; fi
  if ! "${JAVA[@]}" "$ROOT/tools/kafka/CreateTopics.java" "$(bootstrap_list "$n")" "$n" \
    "$PARTITIONS" "$rf" "$min_isr" 120 "${TOPICS[@]}" >"$STATE/topics.log" 2>&1; then
    cat "$STATE/topics.log" >&2
    for ((id = 1; id <= n; id++)); do tail -n 20 "$STATE/node$id.log" >&2 || true; done
    stop
    die "the cluster did not become ready"
  fi
  echo "kafka.sh: $n-node cluster ready at $(bootstrap_list "$n")" >&2
}

start_node() {
  local id="$1"
  [ -e "$STATE/node$id.properties" ] || die "no node $id (start the cluster first)"
  if [ -e "$STATE/node$id.pid" ] && alive "$(cat "$STATE/node$id.pid")"; then
    echo "kafka.sh: node $id runs already (pid $(cat "$STATE/node$id.pid"))" >&2
    return
  fi
  setsid "${JAVA[@]}" kafka.Kafka "$STATE/node$id.properties" >>"$STATE/node$id.log" 2>&1 &
  echo $! >"$STATE/node$id.pid"
}

stop() {
  local f pid i
  for f in "$STATE"/node*.pid; do
    [ -e "$f" ] || continue
    pid="$(cat "$f")"
    kill -TERM "$pid" 2>/dev/null || true
  done
  for f in "$STATE"/node*.pid; do
    [ -e "$f" ] || continue
    pid="$(cat "$f")"
    # A controlled shutdown takes a few seconds; a node that lingers is killed.
    for ((i = 0; i < 300; i++)); do
      alive "$pid" || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$f"
  done
}

status() {
  local alive
  alive="$(alive_nodes)"
  if [ -z "$alive" ]; then
    echo "stopped"
    return 1
  fi
  echo "running: $(echo "$alive" | tr '\n' ' ')($(bootstrap_list "$(cat "$STATE/brokers")"))"
}

case "${1:-}" in
  start)
    shift
    start "$@"
    ;;
  stop) stop ;;
  status) status ;;
  start-node)
    [[ "${2:-}" =~ ^[1-3]$ ]] || die "start-node needs a node number"
    start_node "$2"
    ;;
  classpath)
    fetch
    echo "$JARS/*"
    ;;
  bootstrap)
    [ -n "$(alive_nodes)" ] || die "not running"
    bootstrap_list "$(cat "$STATE/brokers")"
    ;;
  sasl-ssl)
    [ -n "$(alive_nodes)" ] || die "not running"
    grep -q '^listener.name.sasl_ssl' "$STATE/node1.properties" ||
      die "the running cluster has no SASL_SSL listener (started by an older kafka.sh: restart it)"
    echo "bootstrap.servers=$(sasl_ssl_list "$(cat "$STATE/brokers")")"
    echo "security.protocol=SASL_SSL"
    echo "sasl.mechanism=PLAIN"
    echo "sasl.username=$SASL_USER"
    echo "sasl.password=$SASL_PASSWORD"
    echo "ssl.ca.location=$TLS/ca.pem"
    ;;
  *)
    sed -n '2,13p' "$0" >&2
    exit 2
    ;;
esac
