#!/bin/sh
# Packer provisioner, as root: docker and the CI runner's user on the AMI, if the source AMI lacks
# them. Debian/Ubuntu (apt) and Amazon Linux/Fedora (dnf, yum). Nothing here starts at boot beyond
# docker's own service; no credentials, no `docker login`.
set -eu

RUNNER_USER=${RUNNER_USER:-runner}

# A fresh instance's cloud-init may still be running apt (unattended upgrades, its own packages):
# wait for it rather than race it for the dpkg lock. It exits 2 for a finished boot with warnings.
if command -v cloud-init >/dev/null 2>&1; then
  cloud-init status --wait >/dev/null || [ $? -eq 2 ] ||
    echo "prepare-host.sh: cloud-init failed; going on" >&2
fi

if ! command -v docker >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends docker.io
  elif command -v dnf >/dev/null 2>&1; then
    dnf install -y -q docker
  elif command -v yum >/dev/null 2>&1; then
    yum install -y -q docker
  else
    echo "prepare-host.sh: no apt-get, dnf or yum to install docker with" >&2
    exit 1
  fi
fi
if command -v systemctl >/dev/null 2>&1; then
  systemctl enable docker
fi

if ! id "$RUNNER_USER" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/bash "$RUNNER_USER"
fi
getent group docker >/dev/null 2>&1 || groupadd docker
usermod -aG docker "$RUNNER_USER"
