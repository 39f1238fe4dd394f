#!/usr/bin/env bash
# Installs every Debian package primer needs (idempotent; run as root on Debian 12), then configures
# and builds into build/. Usage: tools/setup.sh [--deps-only] [extra cmake args...]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

packages=(
  build-essential cmake pkg-config git
  libeigen3-dev libdnnl-dev ocl-icd-opencl-dev
  libyaml-cpp-dev libspdlog-dev libfmt-dev
  libsentencepiece-dev sentencepiece
  libopenmpi-dev openmpi-bin
  googletest libgtest-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev zlib1g-dev
  python3-torch python3-numpy python3-sentencepiece libopenblas0-openmp
  gnuplot-nox clang-format
  libboost-context-dev
  slurmctld slurmd slurm-client munge iproute2
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "${1:-}" = "--deps-only" ]; then exit 0; fi

cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$repo/build" -j"$(nproc)"
