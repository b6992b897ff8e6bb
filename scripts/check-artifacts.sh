#!/usr/bin/env bash
# Checks the shipping artifacts without a Docker engine or a network, after `npm run build`:
#   - shellcheck on the shell scripts;
#   - packer fmt -check and packer validate on packer/ (packer 1.6.6 and later);
#   - a Dockerfile linter (dockerfile-utils, a devDependency) on Dockerfile.runner and
#     Dockerfile.gitlab-helper, and their HELPER_VERSION defaults against package.json;
#   - dist/SHA256SUMS against dist/;
#   - the executable baked into a FROM scratch image with buildah (vfs storage, no daemon), the way
#     Dockerfile.runner's helper-bin stage does, and read back out of the committed image.
# Needs: shellcheck, packer, buildah, node (apt-get install shellcheck packer buildah).
set -euo pipefail
cd "$(dirname "$0")/.."

export CHECKPOINT_DISABLE=1 # packer: no update check over the network

step() { printf '\n== %s\n' "$*"; }
fail() {
  printf 'check-artifacts: %s\n' "$*" >&2
  exit 1
}

for tool in shellcheck packer buildah node sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (apt-get install shellcheck packer buildah)"
done
exe=dist/docker-credential-ecr-login
[[ -f $exe ]] || fail "$exe is missing: run npm run build first"

step "shellcheck"
shellcheck scripts/*.sh packer/*.sh
echo "ok: $(echo scripts/*.sh packer/*.sh)"

step "packer $(packer version | head -n1)"
packer fmt -check -diff packer/
packer validate packer/
echo "ok: packer/"

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
echo "ok: $(wc -l <dist/SHA256SUMS) files"

step "FROM scratch image with buildah"
storage=$(mktemp -d "${TMPDIR:-/tmp}/ecr-login-buildah.XXXXXX")
buildah=(buildah --storage-driver vfs --root "$storage/root" --runroot "$storage/run")
image=localhost/ecr-login-bin:ci
ctr=
cleanup() {
  if [[ -n $ctr ]]; then "${buildah[@]}" rm "$ctr" >/dev/null 2>&1 || true; fi
  "${buildah[@]}" rmi -a -f >/dev/null 2>&1 || true
  rm -rf "$storage"
}
trap cleanup EXIT

ctr=$("${buildah[@]}" from scratch)
"${buildah[@]}" copy --chmod 0755 "$ctr" "$exe" /usr/local/bin/docker-credential-ecr-login >/dev/null
"${buildah[@]}" config \
  --entrypoint '["/usr/local/bin/docker-credential-ecr-login"]' --cmd version \
  --label org.opencontainers.image.version="$version" \
  --label dev.ecr-login.helper.version="$version" "$ctr"
"${buildah[@]}" commit --quiet --rm "$ctr" "$image" >/dev/null
ctr=

# Read it back from the committed image, not the working container.
ctr=$("${buildah[@]}" from "$image")
mnt=$("${buildah[@]}" mount "$ctr")
cmp "$mnt/usr/local/bin/docker-credential-ecr-login" "$exe" || fail "the image holds a different file"
[[ -x "$mnt/usr/local/bin/docker-credential-ecr-login" ]] || fail "the file in the image is not executable"
labels=$("${buildah[@]}" inspect --type image --format '{{index .OCIv1.Config.Labels "org.opencontainers.image.version"}}' "$image")
[[ $labels == "$version" ]] || fail "image label version is '$labels', want $version"
"${buildah[@]}" umount "$ctr" >/dev/null
size=$("${buildah[@]}" images --format '{{.Size}}' "$image")
echo "ok: $image ($size) holds /usr/local/bin/docker-credential-ecr-login, version label $version"

printf '\ncheck-artifacts: all passed\n'
