#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages Steppe needs, only those missing (sourced by the other scripts).
steppe_packages=(cmake g++ make libeigen3-dev libboost-program-options-dev nlohmann-json3-dev
                 catch2 libbenchmark-dev)
steppe_install_missing() {
  local missing=()
  for p in "${steppe_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "steppe: installing ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
}
