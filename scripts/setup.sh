#!/usr/bin/env bash
# Installs every system dependency lockstep needs, idempotently, with apt.
# Safe to run again: it installs only what is missing. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libzmq3-dev cppzmq-dev                        # wire/: ZeroMQ + C++ bindings
  libboost1.81-dev libboost-filesystem1.81-dev  # sandbox/: Boost.Process
  libboost-system1.81-dev
  libabsl-dev                                   # Status / StatusOr, strings
  libgtest-dev libgmock-dev                     # tests/
  nlohmann-json3-dev libtomlplusplus-dev        # JSON output, TOML configs
  libxxhash-dev                                 # weight and cache hashes
  libcli11-dev                                  # command lines (CLI11)
  bubblewrap libseccomp-dev                     # sandbox/: namespaces, seccomp
  libpcre2-dev libicu-dev                       # model/: tokenizer regexes (PCRE2), NFC (ICU)
  libcpp-httplib-dev libssl-dev                 # serve/, eval/: HTTP(S) server and client
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all system dependencies present"
fi
