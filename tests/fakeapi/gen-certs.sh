#!/bin/sh
# gen-certs.sh DIR [SAN...] - make a throw-away CA and a server certificate
# for tests.
#
# Writes DIR/ca.crt, DIR/ca.key, DIR/server.crt, DIR/server.key (RSA 2048,
# SHA-256, valid 2 days).  The server certificate names localhost, 127.0.0.1
# and ::1 in its subjectAltName, and each further SAN given ("IP:10.0.0.100",
# "DNS:kubernetes.default.svc").  Quiet unless openssl fails.
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 DIR [SAN...]" >&2
    exit 2
fi
dir=$1
shift
sans="DNS:localhost, IP:127.0.0.1, IP:::1"
for san in "$@"; do
    sans="$sans, $san"
done
mkdir -p "$dir"
log="$dir/.gen-certs.log"
ext="$dir/.server-ext.cnf"

cat >"$ext" <<EOF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $sans
EOF

run() {
    if ! "$@" >>"$log" 2>&1; then
        cat "$log" >&2
        echo "gen-certs.sh: failed: $*" >&2
        exit 1
    fi
}

: >"$log"
run openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" -subj "/CN=fake-apiserver test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash"
run openssl req -new -newkey rsa:2048 -nodes -sha256 \
    -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=localhost"
run openssl x509 -req -sha256 -days 2 -in "$dir/server.csr" \
    -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -extfile "$ext" -out "$dir/server.crt"
chmod 600 "$dir/ca.key" "$dir/server.key"
rm -f "$dir/server.csr" "$dir/ca.srl" "$ext" "$log"
