#!/usr/bin/env bash
# Installs everything pgvise needs to build, test and run its demo on Debian 12.
# Idempotent: packages already present are skipped; it says what it installs.
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build pkg-config clang clang-format libclang-rt-14-dev
  libpq-dev libpqxx-dev libpg-query-dev libprotobuf-c-dev postgresql-server-dev-15 python3
  libyaml-cpp-dev libspdlog-dev libcli11-dev libsimdjson-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  postgresql-15 postgresql-contrib postgresql-15-hypopg postgresql-15-pg-qualstats postgresql-15-partman
  chromium fonts-dejavu-core help2man
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Debian's postgresql-common creates a default cluster on install; pgvise never
# uses it (tests start throwaway clusters), so ask it not to.
if [ ! -f /etc/postgresql-common/createcluster.conf ] || ! grep -q '^create_main_cluster = false' /etc/postgresql-common/createcluster.conf 2>/dev/null; then
  $SUDO mkdir -p /etc/postgresql-common
  echo 'create_main_cluster = false' | $SUDO tee -a /etc/postgresql-common/createcluster.conf >/dev/null
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
