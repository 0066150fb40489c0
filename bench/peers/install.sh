#!/usr/bin/env bash
# Installs the peer brokers the benchmark compares Courier with, from Debian's packages, when missing:
# Mosquitto (MQTT), RabbitMQ (AMQP 0-9-1, and MQTT through its plugin) and NATS. Aedes comes from npm.
# Idempotent: installs only what is missing, runs `apt-get update` at most once, and leaves the
# services the packages would start stopped and disabled, since the harness starts each peer itself on
# loopback with its own ports and config.
#
#   bash bench/peers/install.sh [mosquitto] [rabbitmq] [nats]     (default: all three; needs root)
set -euo pipefail

declare -A PACKAGE=([mosquitto]=mosquitto [rabbitmq]=rabbitmq-server [nats]=nats-server)
declare -A BINARY=([mosquitto]=mosquitto [rabbitmq]=rabbitmq-server [nats]=nats-server)
declare -A SERVICE=([mosquitto]=mosquitto [rabbitmq]=rabbitmq-server [nats]=nats-server)

peers=("$@")
[ ${#peers[@]} -eq 0 ] && peers=(mosquitto rabbitmq nats)

missing=()
for peer in "${peers[@]}"; do
  if [ -z "${PACKAGE[$peer]:-}" ]; then
    echo "install.sh: unknown peer '$peer' (mosquitto, rabbitmq, nats; aedes comes from npm)" >&2
    exit 2
  fi
  # Debian puts rabbitmq-server and mosquitto in /usr/sbin, which a non-login PATH may lack.
  if ! PATH="$PATH:/usr/sbin:/sbin" command -v "${BINARY[$peer]}" >/dev/null 2>&1; then
    missing+=("${PACKAGE[$peer]}")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install.sh: ${peers[*]} already installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: installing ${missing[*]} needs root (apt-get)" >&2
  exit 1
fi

# Debian's maintainer scripts start the services they install; there is no init system to speak of in a
# container, and a broker left running on its default ports would clash with Courier's. policy-rc.d
# (exit 101) tells invoke-rc.d not to start anything while we install.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  created_policy=1
fi
cleanup() { if [ "$created_policy" -eq 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

# The Erlang packages start an epmd daemon listening on every address; the harness runs its own epmd on
# loopback, so one that this install started is stopped again (through epmd itself, not by name).
epmd_was_running=0
if command -v epmd >/dev/null 2>&1 && epmd -names >/dev/null 2>&1; then epmd_was_running=1; fi

export DEBIAN_FRONTEND=noninteractive
echo "install.sh: apt-get update, then installing ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

# Whatever got started anyway (some maintainer scripts call the daemon directly) is stopped here.
for peer in "${peers[@]}"; do
  if command -v service >/dev/null 2>&1; then service "${SERVICE[$peer]}" stop >/dev/null 2>&1 || true; fi
done
if [ "$epmd_was_running" -eq 0 ] && command -v epmd >/dev/null 2>&1 && epmd -names >/dev/null 2>&1; then
  epmd -kill >/dev/null 2>&1 || true
fi
echo "install.sh: done"
