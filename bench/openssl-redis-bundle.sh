#!/bin/sh
# The seed workflow: a Redis mutual-TLS bundle made by hand with eight openssl commands — CA key,
# self-signed CA, server key, server CSR, signed server certificate, client key, client CSR, signed
# client certificate. The reference for workload W1 of bench/run.mjs.
#
#   bench/openssl-redis-bundle.sh OUT_DIR ec|rsa2048|rsa4096
set -eu
out=$1
case $2 in
  ec) alg='-algorithm EC -pkeyopt ec_paramgen_curve:P-256' ;;
  rsa2048) alg='-algorithm RSA -pkeyopt rsa_keygen_bits:2048' ;;
  rsa4096) alg='-algorithm RSA -pkeyopt rsa_keygen_bits:4096' ;;
  *) echo "usage: $0 OUT_DIR ec|rsa2048|rsa4096" >&2; exit 2 ;;
esac
mkdir -p "$out"
cd "$out"
cat > ext.cnf <<'CNF'
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = DNS:redis,DNS:localhost,IP:127.0.0.1,IP:::1
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
CNF
# shellcheck disable=SC2086 # $alg is a list of arguments
openssl genpkey $alg -out ca.key 2>/dev/null
openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj '/CN=Redis CA' -out ca.crt
openssl genpkey $alg -out redis.key 2>/dev/null
openssl req -new -key redis.key -subj '/CN=redis' -out redis.csr
openssl x509 -req -in redis.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 90 -sha256 -extfile ext.cnf -extensions server -out redis.crt 2>/dev/null
openssl genpkey $alg -out client.key 2>/dev/null
openssl req -new -key client.key -subj '/CN=client' -out client.csr
openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 90 -sha256 -extfile ext.cnf -extensions client -out client.crt 2>/dev/null
