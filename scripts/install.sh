#!/bin/sh
# Installs the docker-credential-ecr-login single executable and routes ECR registries to it in the
# docker config (~/.docker/config.json) of the given users, keeping every other key of that file.
# The config edits are the helper's own `configure --config FILE` (the one rule for what is an ECR
# host, a backup of the previous file, nothing else touched), run from the installed executable.
# Idempotent: a second run with the same arguments changes nothing. POSIX sh; run `--help`.
#
# --uninstall removes the executable and, from each user's config, the credHelpers entries that
# point to ecr-login (after a backup); that edit needs jq or python3, whichever is found first.
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
  --uninstall       remove the executable, and the credHelpers entries that point to ecr-login
                    from each user's config
  -h, --help        this text

Environment: ECR_LOGIN_JSON_TOOL=jq|python3 picks the JSON tool of --uninstall.
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
uninstall=0

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
    --uninstall) uninstall=1; shift ;;
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

# Registry hosts are checked by the helper itself (configure's rule), below; here only what a shell
# argument list needs: no whitespace.
for r in $registries; do
  case $r in *[[:space:]]* | '') die "not a registry host name: $r" ;; esac
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
if [ -n "$registries" ] || [ "$uninstall" -eq 1 ]; then
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

i_am_root=0
[ "$(id -u)" -ne 0 ] || i_am_root=1
status=0
target_dir=$root$prefix
target=$target_dir/$helper_name

if [ "$uninstall" -eq 1 ]; then
  # --- uninstall -------------------------------------------------------------------------------
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

  # Prints the config $1 without its ecr-login credHelpers entries (and without credHelpers if
  # nothing else is left in it), or nothing when it has none. Exits non-zero when it is not a JSON
  # object.
  unroute() {
    case $json_tool in
      jq)
        jq -e 'type == "object" and ((.credHelpers // {}) | type == "object")' "$1" >/dev/null 2>&1 || return 1
        if jq -e '(.credHelpers // {}) | any(.[]; . == "ecr-login")' "$1" >/dev/null; then
          jq --tab '.credHelpers |= with_entries(select(.value != "ecr-login"))
            | if .credHelpers == {} then del(.credHelpers) else . end' "$1"
        fi
        ;;
      python3)
        python3 - "$1" <<'PY'
import json, sys
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        config = json.load(f)
except ValueError:
    sys.exit(1)
if not isinstance(config, dict) or not isinstance(config.get("credHelpers", {}), dict):
    sys.exit(1)
have = config.get("credHelpers", {})
keep = {k: v for k, v in have.items() if v != "ecr-login"}
if keep != have:
    if keep:
        config["credHelpers"] = keep
    else:
        del config["credHelpers"]
    sys.stdout.write(json.dumps(config, indent="\t", ensure_ascii=False) + "\n")
PY
        ;;
    esac
  }

  for account in $accounts; do
    home=${account#*:}
    home=${home%%:*}
    config=$root$home/.docker/config.json
    if [ -L "$config" ]; then config=$(readlink -f "$config"); fi
    [ -s "$config" ] || continue
    [ -n "$json_tool" ] || die "$config: removing entries from it needs jq or python3, and neither is installed"
    if ! new=$(unroute "$config"); then
      printf '%s: %s is not a JSON object; left alone\n' "$me" "$config" >&2
      status=1
      continue
    fi
    if [ -z "$new" ]; then
      printf '%s routes nothing to ecr-login\n' "$config"
      continue
    fi
    if [ "$dry_run" -eq 1 ]; then
      say "remove the ecr-login credHelpers entries from $config"
      printf '%s\n' "$new" | diff -u "$config" - | sed '1,2d' || true
      continue
    fi
    # A backup first, like configure's: never overwritten, 0600 since auths may hold passwords.
    backup=$config.bak-$(date -u +%Y%m%dT%H%M%SZ)
    n=0
    while [ -e "$backup" ]; do n=$((n + 1)); backup=${backup%-[0-9]*}-$n; done
    (umask 077 && cp "$config" "$backup")
    [ "$i_am_root" -eq 0 ] || chown "${account#*:*:}" "$backup"
    tmp=$(dirname "$config")/.config.json.$$
    cp -p "$config" "$tmp" # keeps mode and owner
    printf '%s\n' "$new" >"$tmp"
    mv -f "$tmp" "$config"
    printf 'removed the ecr-login credHelpers entries from %s (backup: %s)\n' "$config" "$backup"
  done

  if [ -e "$target" ] || [ -L "$target" ]; then
    say "remove $target"
    [ "$dry_run" -eq 1 ] || rm -f "$target"
  else
    printf 'no %s to remove\n' "$target"
  fi
  exit "$status"
fi

# --- the executable ------------------------------------------------------------------------------

# The single executable, not a node script: the npm bin needs the bundles beside it (npm install -g).
check_executable() {
  [ -f "$1" ] || die "no such file: $1"
  case $(head -c 4 "$1" | od -An -c | tr -d ' ') in
    177ELF) ;;
    *) die "$1 is not a single executable (an ELF file); for the node script, use npm install -g" ;;
  esac
}

script_dir=$(cd "$(dirname "$0")" && pwd)
if [ "$install_binary" -eq 1 ]; then
  if [ -z "$binary" ]; then
    for candidate in "$script_dir/../dist/$helper_name" "$script_dir/$helper_name"; do
      if [ -f "$candidate" ]; then binary=$candidate; break; fi
    done
    [ -n "$binary" ] || die "no $helper_name next to this script; give --binary FILE (run npm run build first?)"
  fi
  check_executable "$binary"
  helper=$binary
elif [ -x "$target" ]; then
  helper=$target
else
  helper=$(command -v "$helper_name" 2>/dev/null) || die "--no-binary: no $target and no $helper_name on PATH"
fi

# The helper checks the registries before anything changes: it must run here, and accept them all.
registry_args=
for r in $registries; do registry_args="$registry_args--registry
$r
"; done
if [ -n "$registries" ]; then
  # shellcheck disable=SC2086 # split on newlines only (IFS)
  if ! out=$("$helper" configure --print $registry_args 2>&1 >/dev/null); then
    die "${out:-cannot run $helper on this machine}"
  fi
fi

if [ "$install_binary" -eq 1 ]; then
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
      helper=$target
    fi
  fi
fi

# --- docker configs ------------------------------------------------------------------------------

[ -n "$registries" ] || {
  printf 'no registries given (--registry HOST) and --no-public: docker configs left alone\n'
  exit 0
}

configure_args=
[ "$dry_run" -eq 0 ] || configure_args="--dry-run"
for account in $accounts; do
  user=${account%%:*}
  owner=${account#*:*:}
  home=${account#*:}
  home=${home%%:*}
  dir=$root$home/.docker
  config=$dir/config.json
  dir_existed=0
  [ ! -d "$dir" ] || dir_existed=1
  config_existed=0
  [ ! -e "$config" ] || config_existed=1

  # With the helper first on PATH, configure's PATH check has nothing to say.
  # shellcheck disable=SC2086 # split on newlines only (IFS)
  PATH="$(dirname "$helper"):$PATH" "$helper" configure --config "$config" $configure_args $registry_args || {
    status=1
    continue
  }
  # Written by root for another user: make what was created theirs.
  if [ "$dry_run" -eq 0 ] && [ "$i_am_root" -eq 1 ] && [ "$config_existed" -eq 0 ]; then
    chown "$owner" "$config"
    [ "$dir_existed" -eq 1 ] || chown "$owner" "$dir"
  fi
done

exit "$status"
