#!/usr/bin/env bash
# Builds Dockerfile.runner and Dockerfile.gitlab-helper with a real Docker engine and runs the images,
# offline, after `npm run build`. The engine is a dockerd of this script's own (vfs storage, no
# iptables, no bridge, its own socket and data root under a temporary directory), stopped on exit.
# No image can be pulled, so the pinned base images (the ARG defaults in the Dockerfiles) are
# stand-ins made here with `docker import` from this machine's own files: a shell, the tools
# install.sh uses, their libraries, and /etc/passwd with root and the runner user. Then:
#   - Dockerfile.runner for this machine's architecture: `docker-credential-ecr-login version` as
#     the runner user, and the baked config.json of root and runner (content and owner);
#   - Dockerfile.gitlab-helper, run as docs/gitlab-ci.yml's job: with the job's variables its docker
#     CLI reaches this engine over TLS as it would docker:dind (and without DOCKER_TLS_VERIFY and
#     DOCKER_CERT_PATH it cannot), and `docker pull` of an ECR image calls the helper, which fetches
#     a token from the project's loopback fake ECR (the pull itself then fails: nothing resolves);
#   - the helper-bin target with the other architecture's TARGETARCH holds that executable.
# All of it runs in network and mount namespaces of its own (unshare): only loopback exists, so the
# engine reaches nothing (not even the machine's DNS server), and its mounts die with it.
# Needs: dockerd (apt docker.io), the docker CLI, node, jq, openssl, unshare and ip.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z ${ECR_LOGIN_IMAGES_NAMESPACED:-} ]]; then
  exec unshare --net --mount env ECR_LOGIN_IMAGES_NAMESPACED=1 bash "$0" "$@"
fi
ip link set lo up

fail() {
  printf 'check-images: %s\n' "$*" >&2
  exit 1
}
for tool in dockerd docker node jq openssl unshare ip; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed (apt-get install docker.io jq)"
done

case $(uname -m) in
  x86_64) arch=amd64 other=arm64 ;;
  aarch64) arch=arm64 other=amd64 ;;
  *) fail "no executable for $(uname -m)" ;;
esac
for a in "$arch" "$other"; do
  [[ -f dist/docker-credential-ecr-login-linux-$a ]] || fail "dist/docker-credential-ecr-login-linux-$a is missing: npm run build"
done

registry=123456789012.dkr.ecr.us-west-2.amazonaws.com
# A short path: a unix socket's path has a length limit.
state=$(mktemp -d /tmp/ecr-login-dockerd.XXXXXX)
export DOCKER_HOST=unix://$state/docker.sock DOCKER_CONFIG=$state/cli DOCKER_BUILDKIT=0
dockerd_pid=
fake_pid=
cleanup() {
  if [[ -n $fake_pid ]]; then kill "$fake_pid" 2>/dev/null || true; fi
  if [[ -n $dockerd_pid ]]; then
    kill "$dockerd_pid" 2>/dev/null || true
    wait "$dockerd_pid" 2>/dev/null || true
  fi
  findmnt -rn -o TARGET | grep "^$state/" | sort -r | xargs -r umount 2>/dev/null || true
  rm -rf "$state"
}
trap cleanup EXIT

# TLS on tcp://127.0.0.1:2376 as docker:dind serves it, with certificates in dind's layout: the
# server's, and the client's in certs/client (ca.pem, cert.pem, key.pem) for the GitLab job.
certs=$state/certs
mkdir -p "$certs/client"
tls() { openssl "$@" 2>/dev/null; }
tls req -x509 -new -nodes -newkey rsa:2048 -days 1 -subj /CN=ci-ca -keyout "$certs/ca-key.pem" -out "$certs/ca.pem"
for side in server client; do
  tls req -new -nodes -newkey rsa:2048 -subj "/CN=$side" -keyout "$certs/$side-key.pem" -out "$certs/$side.csr"
  if [[ $side == server ]]; then
    printf 'subjectAltName=DNS:docker,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$certs/$side.ext"
  else
    printf 'extendedKeyUsage=clientAuth\n' >"$certs/$side.ext"
  fi
  tls x509 -req -days 1 -in "$certs/$side.csr" -CA "$certs/ca.pem" -CAkey "$certs/ca-key.pem" \
    -CAcreateserial -extfile "$certs/$side.ext" -out "$certs/$side-cert.pem"
done
cp "$certs/ca.pem" "$certs/client/ca.pem"
cp "$certs/client-cert.pem" "$certs/client/cert.pem"
cp "$certs/client-key.pem" "$certs/client/key.pem"
chmod 0644 "$certs/client/"*

dockerd --storage-driver=vfs --iptables=false --ip-masq=false --bridge=none \
  --data-root "$state/data" --exec-root "$state/exec" --pidfile "$state/dockerd.pid" \
  -H "$DOCKER_HOST" -H tcp://127.0.0.1:2376 --tlsverify --tlscacert "$certs/ca.pem" \
  --tlscert "$certs/server-cert.pem" --tlskey "$certs/server-key.pem" >"$state/dockerd.log" 2>&1 &
dockerd_pid=$!
for _ in $(seq 60); do
  docker version >/dev/null 2>&1 && break
  kill -0 "$dockerd_pid" 2>/dev/null || fail "dockerd exited: $(tail -n 5 "$state/dockerd.log")"
  sleep 0.5
done
docker version >/dev/null || fail "dockerd did not answer within 30 s"
echo "ok: dockerd $(docker version --format '{{.Server.Version}}') on $DOCKER_HOST"

# --- stand-in base images ------------------------------------------------------------------------

# Copies each program, and every shared library it and the helper load, into the root $1.
copy_programs() {
  local root=$1 tool path
  shift
  mkdir -p "$root/bin"
  for tool in "$@"; do
    path=$(command -v "$tool") || fail "$tool is not installed"
    cp -L "$path" "$root/bin/$tool"
  done
  for path in "$root"/bin/* "dist/docker-credential-ecr-login-linux-$arch"; do
    ldd "$path" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'
  done | sort -u | while read -r lib; do cp -L --parents "$lib" "$root"; done
}

# stand_in NAME ROOT: imports the directory ROOT as the image NAME.
stand_in() {
  tar -C "$2" -c . | docker import --message "stand-in for $1 (check-images.sh)" - "$1" >/dev/null
  echo "ok: stand-in $1"
}

pinned() { sed -n "s/^ARG $2=//p" "$1"; }

base=$state/base
mkdir -p "$base"/{etc,root,home/runner,tmp,actions-runner}
chmod 1777 "$base/tmp"
copy_programs "$base" sh awk grep cut id mkdir cp mv chmod chown cmp dirname readlink cat sed rm stat
printf 'root:x:0:0:root:/root:/bin/sh\nrunner:x:1001:1001:runner:/home/runner:/bin/sh\n' >"$base/etc/passwd"
printf 'root:x:0:\nrunner:x:1001:\n' >"$base/etc/group"
chown 1001:1001 "$base/home/runner"
stand_in "$(pinned Dockerfile.runner RUNNER_IMAGE)" "$base"
stand_in "$(pinned Dockerfile.gitlab-helper BASE_IMAGE)" "$base"

cli=$state/docker-cli
mkdir -p "$cli/usr/local/bin"
cp -L "$(command -v docker)" "$cli/usr/local/bin/docker"
stand_in "$(pinned Dockerfile.gitlab-helper DOCKER_CLI_IMAGE)" "$cli"

# No buildx on this machine: a file in its place, to see it land in the CLI's plugin directory.
buildx=$state/buildx
mkdir -p "$buildx"
printf '#!/bin/sh\necho stand-in buildx\n' >"$buildx/buildx"
chmod 0755 "$buildx/buildx"
stand_in "$(pinned Dockerfile.gitlab-helper BUILDX_IMAGE)" "$buildx"

# --- Dockerfile.runner -----------------------------------------------------------------------------

build() {
  local dockerfile=$1 tag=$2
  shift 2
  docker build --quiet --network none -f "$dockerfile" -t "$tag" --build-arg "TARGETARCH=$arch" \
    --build-arg "ECR_REGISTRIES=$registry" "$@" . >/dev/null 2>"$state/build.log" ||
    fail "docker build -f $dockerfile failed: $(cat "$state/build.log")"
  echo "ok: built $tag from $dockerfile ($arch)"
}
run() { docker run --rm --network none "$@"; }

want=$(jq -cn --arg r "$registry" '{credHelpers: {($r): "ecr-login", "public.ecr.aws": "ecr-login"}}')
build Dockerfile.runner ecr-login-runner:ci
[[ $(run ecr-login-runner:ci id -un) == runner ]] || fail "the runner image does not run as runner"
version=$(run ecr-login-runner:ci docker-credential-ecr-login version)
[[ $version == "docker-credential-ecr-login (ecr-login) $(node -p 'require("./package.json").version')" ]] ||
  fail "version in the runner image: $version"
echo "ok: as runner: $version"
for home in /root /home/runner; do
  config=$(run --user root ecr-login-runner:ci cat "$home/.docker/config.json")
  [[ $(jq -c . <<<"$config") == "$want" ]] || fail "$home/.docker/config.json in the runner image: $config"
done
owner=$(run --user root ecr-login-runner:ci stat -c '%U %a' /home/runner/.docker/config.json)
[[ $owner == "runner 600" ]] || fail "the runner's config.json is '$owner', want runner 600"
cmp <(run --user root ecr-login-runner:ci cat /usr/local/bin/docker-credential-ecr-login) \
  "dist/docker-credential-ecr-login-linux-$arch" || fail "the runner image holds another executable"
echo "ok: root's and runner's config.json route $registry and public.ecr.aws; runner's is runner's, 0600"

# --- Dockerfile.gitlab-helper --------------------------------------------------------------------

build Dockerfile.gitlab-helper ecr-login-gitlab:ci --build-arg EXTRA_PACKAGES=
[[ $(run ecr-login-gitlab:ci cat /usr/local/libexec/docker/cli-plugins/docker-buildx) == *"stand-in buildx"* ]] ||
  fail "buildx is not in the docker CLI's plugin directory"

# The job of docs/gitlab-ci.yml: its image with its variables, the certificates volume, and `docker`
# resolving to this engine's TLS port, as the dind service's alias does. The project's fake ECR on
# loopback stands in for AWS; the container shares this network namespace to reach both.
job_env=()
tls_certdir=''
job_vars=''
while IFS= read -r line; do
  name=${line%%:*}
  value=$(sed -e "s/^[^:]*: *//" -e "s/^'\(.*\)'\$/\1/" <<<"$line")
  value=${value//\$DOCKER_TLS_CERTDIR/$tls_certdir}
  [[ $name == DOCKER_TLS_CERTDIR ]] && tls_certdir=$value
  job_env+=(-e "$name=$value")
  job_vars+="$name=$value "
done < <(awk '/^build:/ { job = 1 } job && /^  variables:/ { v = 1; next } v && /^    [A-Z_]+:/ { sub(/^ +/, ""); print; next } v { exit }' docs/gitlab-ci.yml)
((${#job_env[@]} == 8)) || fail "docs/gitlab-ci.yml: expected 4 variables in the build job, got: ${job_env[*]}"
job() {
  docker run --rm --network host --add-host docker:127.0.0.1 -v "$certs/client:$tls_certdir/client:ro" \
    -e AWS_ACCESS_KEY_ID=AKIDEXAMPLE000000001 -e AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY \
    -e AWS_ENDPOINT_URL_ECR="$ecr_url" -e AWS_EC2_METADATA_DISABLED=true "$@"
}

exec {fake}< <(exec node -e '
  const { startFakeEcr } = require("./dist/test/fakes.cjs");
  startFakeEcr({ credentials: { AKIDEXAMPLE000000001: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" } }).then((ecr) => {
    console.log(ecr.url);
    process.on("SIGTERM", () => { console.log(ecr.calls.length); ecr.close().then(() => process.exit(0)); });
  });')
fake_pid=$!
read -r -u "$fake" ecr_url

server=$(job "${job_env[@]}" ecr-login-gitlab:ci docker version --format '{{.Server.Version}}' 2>&1) ||
  fail "the job's docker CLI cannot reach the TLS engine with the job's variables: $server"
echo "ok: the job's variables (${job_vars% }) reach the engine over TLS: server $server"
# The control: the variables the old example had, DOCKER_HOST and DOCKER_TLS_CERTDIR only.
if old=$(job -e DOCKER_HOST=tcp://docker:2376 -e "DOCKER_TLS_CERTDIR=$tls_certdir" ecr-login-gitlab:ci docker version 2>&1); then
  fail "docker reached the TLS port without DOCKER_TLS_VERIFY and DOCKER_CERT_PATH: $old"
fi
echo "ok: without DOCKER_TLS_VERIFY and DOCKER_CERT_PATH it fails (${old##*$'\n'})"

pull=$(job "${job_env[@]}" ecr-login-gitlab:ci docker pull "$registry/app:1" 2>&1) && fail "the pull succeeded, from where? $pull"
kill "$fake_pid"
read -r -u "$fake" calls
fake_pid=
[[ $calls == 1 ]] || fail "the fake ECR saw $calls GetAuthorizationToken calls, want 1 (docker pull said: $pull)"
echo "ok: docker pull $registry/app:1 in the job called the helper, which got a token from the fake ECR"
echo "    (the pull then fails as it must offline: ${pull##*$'\n'})"

# --- the other architecture ----------------------------------------------------------------------

# The legacy builder (this engine has no BuildKit, this machine no buildx) cannot build a FROM scratch
# stage for another platform (it commits the stage's ARG step as this machine's architecture and then
# refuses it), so this checks what TARGETARCH selects, in an image marked with this architecture.
docker build --quiet --network none -f Dockerfile.runner --target helper-bin \
  --build-arg "TARGETARCH=$other" -t "ecr-login-bin:ci-$other" . >/dev/null 2>"$state/build.log" ||
  fail "docker build --target helper-bin for $other failed: $(cat "$state/build.log")"
ctr=$(docker create "ecr-login-bin:ci-$other" /usr/local/bin/docker-credential-ecr-login)
docker cp "$ctr:/usr/local/bin/docker-credential-ecr-login" "$state/bin-$other"
docker rm "$ctr" >/dev/null
cmp "$state/bin-$other" "dist/docker-credential-ecr-login-linux-$other" || fail "helper-bin for $other holds another file"
echo "ok: helper-bin with TARGETARCH=$other holds dist/docker-credential-ecr-login-linux-$other"
