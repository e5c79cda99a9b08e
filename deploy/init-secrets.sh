#!/bin/sh
# Make every secret file docker-compose.yml reads, under secrets/ beside it: random values, made
# once (a file that exists is kept, so running this again is harmless). docs/deployment.md.
#
# secrets/ is 0700 and its files 0444: compose (without swarm) bind-mounts each file as it is,
# ignoring any uid or mode asked for, and each image reads its own as its own user (the hub as
# 10001, PostgreSQL as 999, Grafana as 472, InfluxDB as 1000); the folder keeps the host's other
# users out. Run it as the user who runs `docker compose`.
set -eu
cd "$(dirname "$0")/.."
umask 077
mkdir -p secrets secrets/hub-tls
chmod 700 secrets

random() {  # 32 random bytes as 43 URL-safe characters: no quoting needed anywhere
    head -c 32 /dev/urandom | base64 | tr -d '=\n' | tr '+/' '-_'
}

made=""
put() {  # put NAME VALUE: write secrets/NAME unless it exists
    if [ ! -e "secrets/$1" ]; then
        printf '%s\n' "$2" >"secrets/$1"
        made="$made $1"
    fi
    chmod 444 "secrets/$1"
}

put postgres_password "$(random)"
put hub_database_url \
    "postgresql+psycopg://community:$(tr -d '\n' <secrets/postgres_password)@postgres:5432/community"
put hub_mqtt_password "$(random)"
put hub_broker_admin_password "$(random)"
put hub_card_key "$(random)"
# The hub's X25519 card key (what `community cards keygen` makes): 32 random bytes, base64.
put card-key "$(head -c 32 /dev/urandom | base64 | tr -d '\n')"
put grafana_pg_password "$(random)"
put grafana_admin_password "$(random)"
put influx_admin_password "$(random)"
put influx_admin_token "$(random)"
# Grafana's read-only InfluxDB token can only be made by InfluxDB once it runs: replace this
# placeholder then (docs/deployment.md, "Grafana"), and restart grafana.
put influx_read_token "replace-me-after-the-first-start"

echo "secrets/:${made:- nothing new (every file was there)}"
if [ ! -e secrets/broker-certs/server.key ]; then
    echo "next: community broker-certs --out secrets/broker-certs --host mosquitto --host <the name edges dial>"
fi
