#!/bin/sh
# Installs the docker-credential-ecr-login single executable and routes ECR registries to it in the
# docker config (~/.docker/config.json) of the given users, keeping every other key of that file.
# Idempotent: a second run with the same arguments changes nothing. POSIX sh; run `--help`.
#
# Merging into an existing config.json needs jq or python3 (whichever is found first; Ubuntu, Debian
# and Amazon Linux images have python3, most CI images have jq). A user without a config.json gets a
# new one written by this script alone, so a bare image needs neither.
set -eu

me=install.sh
helper_name=docker-credential-ecr-login

usage() {
  cat <<EOF
Usage: $me [options]

Installs $helper_name and writes {"credHelpers": {"<registry>": "ecr-login"}} into each
user's ~/.docker/config.json, merged with what is there (auths, credsStore, proxies, ...).

  --binary FILE     the executable to install (default: dist/$helper_name beside this
                    script's directory, else $helper_name next to this script)
  --prefix DIR      where to install it (default: /usr/local/bin)
  --no-binary       leave the executable alone; only write docker configs
  --registry HOST   an ECR registry host, e.g. 123456789012.dkr.ecr.us-west-2.amazonaws.com;
                    repeatable
  --no-public       do not add public.ecr.aws (added by default)
  --user NAME       a user whose docker config to write; repeatable (default: the current user).
                    The home directory comes from <root>/etc/passwd.
  --root DIR        treat DIR as the file system root (like DESTDIR), for images and tests
  --dry-run         print what would change, change nothing
  -h, --help        this text

Environment: ECR_LOGIN_JSON_TOOL=jq|python3 picks the JSON tool instead of the first one found.
EOF
}

die() {
  printf '%s: %s\n' "$me" "$*" >&2
  exit 1
}

# Newline-separated lists; registry and user names are validated, so they hold no newlines.
registries=
users=
prefix=/usr/local/bin
root=
binary=
install_binary=1
public=1
dry_run=0

need_arg() {
  if [ $# -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value"; fi
}

while [ $# -gt 0 ]; do
  case $1 in
    --binary) need_arg "$@"; binary=$2; shift 2 ;;
    --binary=*) binary=${1#*=}; shift ;;
    --prefix) need_arg "$@"; prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --no-binary) install_binary=0; shift ;;
    --registry) need_arg "$@"; registries="$registries$2
"; shift 2 ;;
    --registry=*) registries="$registries${1#*=}
"; shift ;;
    --no-public) public=0; shift ;;
    --user) need_arg "$@"; users="$users$2
"; shift 2 ;;
    --user=*) users="$users${1#*=}
"; shift ;;
    --root) need_arg "$@"; root=$2; shift 2 ;;
    --root=*) root=${1#*=}; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
  esac
done

# From here on, lists split on newlines only and nothing is globbed.
set -f
IFS='
'
root=${root%/}
case $prefix in /*) ;; *) die "--prefix must be an absolute path: $prefix" ;; esac
[ -z "$root" ] || [ -d "$root" ] || die "--root is not a directory: $root"
[ "$public" -eq 0 ] || registries="${registries}public.ecr.aws
"

# Registry hosts become JSON keys and file content: letters, digits, dots, dashes, an optional port.
for r in $registries; do
  printf '%s\n' "$r" | grep -Eq '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]+)?$' ||
    die "not a registry host name: $r (give the bare host, e.g. 123456789012.dkr.ecr.us-west-2.amazonaws.com)"
done
registries=$(printf '%s' "$registries" | awk 'NF && !seen[$0]++')

[ -n "$users" ] || users=$(id -un)
for u in $users; do
  printf '%s\n' "$u" | grep -Eq '^[A-Za-z0-9_][A-Za-z0-9._-]*$' || die "not a user name: $u"
done
users=$(printf '%s' "$users" | awk 'NF && !seen[$0]++')

passwd_entry() {
  if [ -z "$root" ] && command -v getent >/dev/null 2>&1; then
    getent passwd "$1" || true
  elif [ -r "$root/etc/passwd" ]; then
    awk -F: -v u="$1" '$1 == u { print; exit }' "$root/etc/passwd"
  fi
}

# Every user is looked up before anything is changed: name, home, uid:gid, one per line.
accounts=
if [ -n "$registries" ]; then
  for user in $users; do
    entry=$(passwd_entry "$user")
    [ -n "$entry" ] || die "user $user not found in ${root:-}/etc/passwd"
    home=$(printf '%s\n' "$entry" | cut -d: -f6)
    if [ -z "$home" ] || [ "$home" = / ]; then die "user $user has no home directory"; fi
    accounts="$accounts$user:$home:$(printf '%s\n' "$entry" | cut -d: -f3,4)
"
  done
fi

say() {
  if [ "$dry_run" -eq 1 ]; then printf 'would %s\n' "$*"; else printf '%s\n' "$*"; fi
}

# --- the executable ----------------------------------------------------------------------------

script_dir=$(cd "$(dirname "$0")" && pwd)
if [ "$install_binary" -eq 1 ]; then
  if [ -z "$binary" ]; then
    for candidate in "$script_dir/../dist/$helper_name" "$script_dir/$helper_name"; do
      if [ -f "$candidate" ]; then binary=$candidate; break; fi
    done
    [ -n "$binary" ] || die "no $helper_name next to this script; give --binary FILE (run npm run build first?)"
  fi
  [ -f "$binary" ] || die "no such file: $binary"
  target_dir=$root$prefix
  target=$target_dir/$helper_name
  if [ -f "$target" ] && cmp -s "$binary" "$target"; then
    printf '%s is up to date\n' "$target"
  else
    say "install $binary as $target"
    if [ "$dry_run" -eq 0 ]; then
      mkdir -p "$target_dir"
      # Copy beside the target, then rename: a docker pull running the old file meanwhile is not
      # disturbed (no "text file busy"), and no one ever runs a half-written file.
      tmp=$target_dir/.$helper_name.$$
      cp "$binary" "$tmp"
      chmod 0755 "$tmp"
      mv -f "$tmp" "$target"
    fi
  fi
fi

# --- docker configs ----------------------------------------------------------------------------

[ -n "$registries" ] || {
  printf 'no registries given (--registry HOST) and --no-public: docker configs left alone\n'
  exit 0
}

json_tool=
case ${ECR_LOGIN_JSON_TOOL:-} in
  jq | python3)
    command -v "$ECR_LOGIN_JSON_TOOL" >/dev/null 2>&1 || die "ECR_LOGIN_JSON_TOOL=$ECR_LOGIN_JSON_TOOL is not installed"
    json_tool=$ECR_LOGIN_JSON_TOOL
    ;;
  '')
    if command -v jq >/dev/null 2>&1; then json_tool=jq; elif command -v python3 >/dev/null 2>&1; then json_tool=python3; fi
    ;;
  *) die "ECR_LOGIN_JSON_TOOL must be jq or python3" ;;
esac

# The registries as a JSON object, {"host": "ecr-login", ...}, on one line.
wanted_json() {
  printf '%s\n' "$registries" | awk 'BEGIN { printf "{" } { printf "%s\"%s\": \"ecr-login\"", (NR > 1 ? ", " : ""), $0 } END { print "}" }'
}

# A new config.json, tab-indented like the docker CLI writes it.
fresh_config() {
  printf '{\n\t"credHelpers": {\n'
  printf '%s\n' "$registries" | awk '{ lines[NR] = $0 } END { for (i = 1; i <= NR; i++) printf "\t\t\"%s\": \"ecr-login\"%s\n", lines[i], (i < NR ? "," : "") }'
  printf '\t}\n}\n'
}

# Prints the merged config for $1 on stdout, or nothing when every entry is already there.
# Exits non-zero when the file is not a JSON object.
merge_config() {
  case $json_tool in
    jq)
      jq -e 'type == "object" and ((.credHelpers // {}) | type == "object")' "$1" >/dev/null 2>&1 || return 1
      if ! jq -e --argjson want "$(wanted_json)" \
        '(.credHelpers // {}) as $have | $want | to_entries | all(.value == $have[.key])' "$1" >/dev/null; then
        jq --tab --argjson want "$(wanted_json)" '.credHelpers = ((.credHelpers // {}) + $want)' "$1"
      fi
      ;;
    python3)
      python3 - "$1" "$(wanted_json)" <<'PY'
import json, sys
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        config = json.load(f)
except ValueError:
    sys.exit(1)
want = json.loads(sys.argv[2])
if not isinstance(config, dict) or not isinstance(config.get("credHelpers", {}), dict):
    sys.exit(1)
have = config.get("credHelpers", {})
if any(have.get(k) != v for k, v in want.items()):
    config["credHelpers"] = {**have, **want}
    sys.stdout.write(json.dumps(config, indent="\t", ensure_ascii=False) + "\n")
PY
      ;;
  esac
}

i_am_root=0
[ "$(id -u)" -ne 0 ] || i_am_root=1
status=0

for account in $accounts; do
  user=${account%%:*}
  owner=${account#*:*:}
  home=${account#*:}
  home=${home%%:*}
  dir=$root$home/.docker
  config=$dir/config.json
  # Write through a symlinked config to the file it points at.
  if [ -L "$config" ]; then config=$(readlink -f "$config"); dir=$(dirname "$config"); fi

  if [ ! -s "$config" ]; then
    new=$(fresh_config)
  else
    [ -n "$json_tool" ] ||
      die "$config exists; merging into it needs jq or python3, and neither is installed (apt-get install jq, dnf install jq)"
    if ! new=$(merge_config "$config"); then
      printf '%s: %s is not a JSON object; left alone\n' "$me" "$config" >&2
      status=1
      continue
    fi
    if [ -z "$new" ]; then
      printf '%s already routes these registries to ecr-login\n' "$config"
      continue
    fi
  fi

  say "write $config ($user)"
  if [ "$dry_run" -eq 1 ]; then
    if [ -s "$config" ]; then
      printf '%s\n' "$new" | diff -u "$config" - | sed '1,2d' || true
    else
      printf '%s\n' "$new"
    fi
    continue
  fi

  created_dir=0
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir"
    chmod 0700 "$dir"
    created_dir=1
  fi
  tmp=$dir/.config.json.$$
  if [ -f "$config" ]; then
    cp -p "$config" "$tmp" # keeps mode and owner
  else
    (umask 077 && : >"$tmp")
  fi
  printf '%s\n' "$new" >"$tmp"
  if [ "$i_am_root" -eq 1 ] && [ ! -f "$config" ]; then
    chown "$owner" "$tmp"
    [ "$created_dir" -eq 0 ] || chown "$owner" "$dir"
  fi
  mv -f "$tmp" "$config"
done

exit "$status"
