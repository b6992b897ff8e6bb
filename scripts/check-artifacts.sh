#!/usr/bin/env bash
# Checks the shipping artifacts without a Docker engine or a network, after `npm run build`:
#   - shellcheck on the shell scripts;
#   - packer fmt -check and packer validate on packer/ for both architectures (Debian's packer 1.6.6:
#     a copy without what only Packer 1.7+ knows; a current Packer: the template as it is);
#   - a Dockerfile linter (dockerfile-utils, a devDependency) on Dockerfile.runner and
#     Dockerfile.gitlab-helper, and their HELPER_VERSION defaults against package.json;
#   - both release executables and dist/SHA256SUMS against dist/;
#   - both Dockerfiles built by a real, private dockerd and their images run (scripts/check-images.sh).
# Needs: shellcheck, packer, node, dockerd, jq (apt-get install shellcheck packer docker.io jq).
set -euo pipefail
cd "$(dirname "$0")/.."

export CHECKPOINT_DISABLE=1 # packer: no update check over the network

step() { printf '\n== %s\n' "$*"; }
fail() {
  printf 'check-artifacts: %s\n' "$*" >&2
  exit 1
}

for tool in shellcheck packer node sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (apt-get install shellcheck packer)"
done
for exe in dist/docker-credential-ecr-login-linux-amd64 dist/docker-credential-ecr-login-linux-arm64; do
  [[ -f $exe ]] || fail "$exe is missing: run npm run build first (arm64 needs qemu-user-static)"
done

step "shellcheck"
shellcheck scripts/*.sh packer/*.sh .ci/run
echo "ok: $(echo scripts/*.sh packer/*.sh)"

step "packer $(packer version | head -n1)"
packer fmt -check -diff packer/
# Packer 1.6 has the amazon builder built in and knows neither required_plugins nor the IMDS settings:
# validate a copy without the `packer {}` block and the lines and blocks marked `packer >= 1.7`. The
# copy sits in the repository's root, so that the template's ${path.root}/.. is still the repository.
if [[ $(packer version | head -n1) == "Packer v1.6."* ]]; then
  packer_dir=$(mktemp -d .packer-1.6.XXXXXX)
  trap 'rm -rf "$packer_dir"' EXIT
  awk '
    skip && $0 ~ "^" indent "}" { skip = 0; next }
    skip { next }
    /# packer >= 1\.7/ {
      if ($0 ~ /\{[ \t]*#/) { match($0, /^[ \t]*/); indent = substr($0, 1, RLENGTH); skip = 1 }
      next
    }
    { print }' packer/runner-ami.pkr.hcl >"$packer_dir/runner-ami.pkr.hcl"
  cp packer/prepare-host.sh "$packer_dir/"
else
  packer_dir=packer
fi
for arch in x86_64 arm64; do
  packer validate -var "arch=$arch" "$packer_dir"
done
if packer validate -var arch=sparc "$packer_dir" >/dev/null 2>&1; then fail "packer accepted arch=sparc"; fi
echo "ok: packer/ (arch x86_64 and arm64)"

step "Dockerfiles"
version=$(node -p 'require("./package.json").version')
for dockerfile in Dockerfile.runner Dockerfile.gitlab-helper; do
  npx --no-install dockerfile-utils lint "$dockerfile"
  grep -qx "ARG HELPER_VERSION=$version" "$dockerfile" ||
    fail "$dockerfile: ARG HELPER_VERSION must default to package.json's version, $version"
  echo "ok: $dockerfile"
done

step "dist/SHA256SUMS"
(cd dist && sha256sum --quiet -c SHA256SUMS)
for exe in docker-credential-ecr-login-linux-amd64 docker-credential-ecr-login-linux-arm64; do
  grep -q "  $exe\$" dist/SHA256SUMS || fail "dist/SHA256SUMS does not list $exe"
done
echo "ok: $(wc -l <dist/SHA256SUMS) files"

step "images built and run by a Docker engine of this script's own (scripts/check-images.sh)"
bash scripts/check-images.sh

printf '\ncheck-artifacts: all passed\n'
