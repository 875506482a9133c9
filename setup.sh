#!/usr/bin/env bash
# Installs what scalelab needs on Debian 12, as root. Safe to run again: installs only what is
# missing, and asks the network nothing when everything is already there.
#   bash setup.sh          build and run dependencies
#   bash setup.sh --bench  also the peers the benchmarks compare against (SciPy, PyTorch)
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  liblua5.4-dev           # Lua 5.4, linked as its C++ build (pkg-config lua5.4-c++)
  libceres-dev libeigen3-dev
  libsqlite3-dev libreadline-dev
  catch2                  # Catch2 v2 (catch2/catch.hpp)
  libopenblas-dev         # the CPU trainer's matrix products where the CPU lacks AVX-512
  gnuplot-nox             # plots
  zlib1g-dev              # zlib: reads the dictzip (gzip) file of dict-gcide
  dict-gcide              # the real English corpus (GNU Collaborative International Dictionary of English)
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(python3 python3-numpy python3-scipy python3-torch)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup.sh: all packages present"
fi
