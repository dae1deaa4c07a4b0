#!/usr/bin/env bash
# A small certificate authority for the platform's mutual TLS (openssl from Debian): the local
# run (scripts/run-local.sh), the tests and anyone trying the platform without a PKI of their
# own. Production uses the retailer's CA (cert-manager, Vault, SPIFFE/SPIRE); the services only
# read PEM files named in config (docs/security.md).
#
# Usage:
#   scripts/pki.sh ca DIR                       make DIR/ca.pem and DIR/ca.key (once; kept if present)
#   scripts/pki.sh issue DIR NAME IDENTITY [DAYS]
#       a key and a certificate signed by DIR's CA: DIR/NAME.pem, DIR/NAME.key. IDENTITY is the
#       caller's principal, written as the certificate's URI SAN (spiffe://loyalty/till/kyiv-01);
#       every certificate also names localhost and 127.0.0.1, so that it serves on loopback too.
#       DAYS: validity (default 365).
#   scripts/pki.sh local DIR                    the CA plus one certificate per service, loyaltyctl
#                                               (admin) and an example till: what run-local.sh uses
# Keys are ECDSA P-256 (fast handshakes), certificates SHA-256. Existing files are kept, so the
# commands are idempotent; delete a NAME's files to issue it again.
set -euo pipefail

die() {
  echo "pki.sh: $*" >&2
  exit 2
}

make_ca() {
  local dir="$1"
  mkdir -p "$dir"
  [ -f "$dir/ca.pem" ] && [ -f "$dir/ca.key" ] && return 0
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key.tmp" 2>/dev/null
  openssl req -x509 -new -key "$dir/ca.key.tmp" -sha256 -days 3650 -subj "/CN=loyalty local CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/ca.pem.tmp"
  chmod 600 "$dir/ca.key.tmp"
  mv "$dir/ca.key.tmp" "$dir/ca.key"
  mv "$dir/ca.pem.tmp" "$dir/ca.pem"
}

issue() {
  local dir="$1" name="$2" identity="$3" days="${4:-365}"
  [[ "$name" =~ ^[A-Za-z0-9._-]+$ ]] || die "issue: NAME must be letters, digits, . _ -"
  [ -f "$dir/ca.pem" ] || die "issue: no CA in $dir (scripts/pki.sh ca $dir)"
  [ -f "$dir/$name.pem" ] && [ -f "$dir/$name.key" ] && return 0
  local ext
  ext="$(mktemp)"
  cat >"$ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=URI:$identity,DNS:localhost,IP:127.0.0.1
EOF
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/$name.key.tmp" 2>/dev/null
  # PKCS#8, the form gRPC and curl both read.
  openssl pkcs8 -topk8 -nocrypt -in "$dir/$name.key.tmp" -out "$dir/$name.key.p8"
  rm -f "$dir/$name.key.tmp"
  openssl req -new -key "$dir/$name.key.p8" -subj "/CN=$name" -out "$dir/$name.csr"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -sha256 -days "$days" -extfile "$ext" -out "$dir/$name.pem.tmp" 2>/dev/null
  rm -f "$dir/$name.csr" "$ext"
  chmod 600 "$dir/$name.key.p8"
  mv "$dir/$name.key.p8" "$dir/$name.key"
  mv "$dir/$name.pem.tmp" "$dir/$name.pem"
}

local_pki() {
  local dir="$1"
  make_ca "$dir"
  for service in accrual redemption referral notification; do
    issue "$dir" "$service" "spiffe://loyalty/service/$service"
  done
  issue "$dir" loyaltyctl "spiffe://loyalty/admin/loyaltyctl"
  issue "$dir" till-example "spiffe://loyalty/till/example-01"
}

case "${1:-}" in
  ca)
    [ $# -eq 2 ] || die "usage: pki.sh ca DIR"
    make_ca "$2"
    ;;
  issue)
    [ $# -ge 4 ] && [ $# -le 5 ] || die "usage: pki.sh issue DIR NAME IDENTITY [DAYS]"
    issue "$2" "$3" "$4" "${5:-365}"
    ;;
  local)
    [ $# -eq 2 ] || die "usage: pki.sh local DIR"
    local_pki "$2"
    ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
