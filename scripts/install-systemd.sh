#!/usr/bin/env bash
# Installs promflux as a systemd service from this built source checkout; run as root.
#
#   1. Checks Node >= the package.json engines minimum (the `node` on PATH; ExecStart uses that path)
#      and that the checkout is built (dist/). It does not build: as root that would leave root-owned
#      files in the checkout and needs the dev dependencies. Run `npm ci && npm run build` first.
#   2. Installs the app into the prefix (default /opt/promflux): what `npm pack` ships (bin, dist,
#      config, systemd, README.md, package.json) plus the production dependencies copied from the
#      checkout's node_modules (package-lock.json's non-dev entries), so no network is needed. The prefix is
#      replaced only when its content differs, and only if it is empty or an earlier promflux install.
#   3. Creates the system user and group (useradd --system, no home, nologin) unless they exist. The
#      unit keeps DynamicUser=yes (its sandboxing): systemd runs it as the static user of the same
#      name when one exists, which lets /etc/promflux be readable by that group and nobody else.
#      The unit's user is its name, promflux; with --user NAME the installed unit gets User=/Group=.
#   4. Creates the config dir (root:GROUP 0750), the config from config/promflux.example.yaml with
#      pipeline.state_dir: /var/lib/promflux (the only directory the service may write to), and an
#      EnvironmentFile template for secrets (root:GROUP 0640) - each only if it does not exist yet.
#      An existing file is never overwritten or re-permissioned.
#   5. Validates the config: `promflux check-config` as the service user, with the environment the
#      service will have (the EnvironmentFile's KEY=value lines, nothing from this shell). A variable
#      the config requires (${VAR}, ${VAR:?msg}) that the file does not set yet is given a
#      placeholder for the check and listed in the next steps. Invalid: stops, exit 2.
#   6. Installs the unit (systemd/promflux.service with the prefix, config dir and node path
#      substituted), runs `systemd-analyze verify` on it when available, and `systemctl
#      daemon-reload` when systemd is running (/run/systemd/system exists; not in most containers).
#   It never enables or starts the service; it prints the next steps. Running it again is safe: it
#   changes only what differs from what it would install.
#
# Usage: scripts/install-systemd.sh [options]
#   --prefix DIR       app directory (default /opt/promflux)
#   --config-dir DIR   config directory (default /etc/promflux)
#   --unit-dir DIR     where the unit goes (default /etc/systemd/system)
#   --user NAME        service user and group (default promflux)
#   --root DIR         install into an alternate root (packaging, tests): every path above is
#                      created under DIR, the unit still names the paths without it. No user is
#                      created; files get the group's gid from DIR/etc/group if it lists it, else
#                      stay root:root. The config is checked as root. No daemon-reload.
#   --dry-run          print what would be done; change nothing (root not needed)
#   -h, --help         this help
#
# Exit codes: 0 installed (or nothing to do), 1 a step failed (Node missing or too old, checkout
# not built, not root, a command failed, systemd-analyze verify failed), 2 bad usage or invalid
# config (the validation output is printed).
set -Eeuo pipefail
umask 022

say() { echo "install-systemd: $*"; }
warn() { echo "install-systemd: warning: $*" >&2; }
die() {
  local code=$1
  shift
  echo "install-systemd: $*" >&2
  exit "$code"
}
indent() { sed 's/^/  /'; }
# Any unexpected failure is a failed step (1), never mistaken for "invalid config" (2).
on_error() {
  local rc=$? line=${BASH_LINENO[0]}
  if [ "$BASH_SUBSHELL" -eq 0 ]; then echo "install-systemd: failed (line $line, exit $rc)" >&2; fi
  exit 1
}
trap on_error ERR

usage() { sed -n '2,/^set -E/{/^set -E/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
ROOT=""
PREFIX=/opt/promflux
CONFIG_DIR=/etc/promflux
UNIT_DIR=/etc/systemd/system
SVC_USER=promflux
DRY_RUN=0

bad_usage() { die 2 "$* (see --help)"; }
while [ $# -gt 0 ]; do
  opt=$1
  case $opt in
    -h | --help)
      usage
      exit 0
      ;;
    --dry-run) DRY_RUN=1 ;;
    --prefix | --config-dir | --unit-dir | --user | --root)
      [ $# -ge 2 ] || bad_usage "$opt needs a value"
      val=$2
      shift
      ;;
    --prefix=* | --config-dir=* | --unit-dir=* | --user=* | --root=*)
      val=${opt#*=}
      opt=${opt%%=*}
      ;;
    *) bad_usage "unknown argument: $opt" ;;
  esac
  case $opt in
    --prefix) PREFIX=$val ;;
    --config-dir) CONFIG_DIR=$val ;;
    --unit-dir) UNIT_DIR=$val ;;
    --user) SVC_USER=$val ;;
    --root) ROOT=$val ;;
  esac
  shift
done

# Paths go into the unit file and sed replacements: absolute, and only characters that need no
# quoting there.
check_path() {
  [[ $2 =~ ^/[A-Za-z0-9._/+-]*$ ]] ||
    bad_usage "$1 must be an absolute path of letters, digits and . _ / + - (got '$2')"
}
check_path --prefix "$PREFIX"
check_path --config-dir "$CONFIG_DIR"
check_path --unit-dir "$UNIT_DIR"
[ -z "$ROOT" ] || check_path --root "$ROOT"
[[ $SVC_USER =~ ^[a-z_][a-z0-9_-]{0,31}$ ]] ||
  bad_usage "--user must be a user name (lowercase letters, digits, _ and -; got '$SVC_USER')"
PREFIX=${PREFIX%/}
CONFIG_DIR=${CONFIG_DIR%/}
UNIT_DIR=${UNIT_DIR%/}
ROOT=${ROOT%/}
if [ -z "$PREFIX" ] || [ -z "$CONFIG_DIR" ] || [ -z "$UNIT_DIR" ]; then bad_usage "/ is not a valid directory here"; fi

# R_*: where the files go on this file system; PREFIX etc.: the paths the service sees.
R_PREFIX=$ROOT$PREFIX
R_CONFIG_DIR=$ROOT$CONFIG_DIR
CONFIG=$CONFIG_DIR/promflux.yaml
ENV_FILE=$CONFIG_DIR/promflux.env
UNIT=$UNIT_DIR/promflux.service
STATE_DIR=/var/lib/promflux # StateDirectory=promflux

# would DESCRIPTION -- COMMAND...: runs COMMAND, or with --dry-run only says what it would do.
would() {
  local what=$1
  shift 2
  if [ "$DRY_RUN" -eq 1 ]; then
    say "[dry-run] would $what"
  else
    "$@"
  fi
}

[ "$DRY_RUN" -eq 1 ] && say "dry run: nothing will be changed"
[ -n "$ROOT" ] && say "installing into the alternate root $ROOT"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/install-systemd.XXXXXX")
STAGE=""
cleanup() {
  rm -rf "$WORK"
  # A new tree not yet in place; a previous one moved aside ($STAGE.old) is kept for recovery.
  if [ -n "$STAGE" ]; then rm -rf "$STAGE"; fi
}
trap cleanup EXIT

# --- 1. Node and the built checkout ------------------------------------------------------------
MIN_NODE=$(sed -n 's/^[[:space:]]*"node"[[:space:]]*:[[:space:]]*">=[[:space:]]*\([0-9][0-9.]*\)".*/\1/p' "$SRC/package.json" | head -n1)
[[ $MIN_NODE =~ ^[0-9]+(\.[0-9]+){0,2}$ ]] || die 1 "cannot read engines.node (\">=X.Y\") from $SRC/package.json"
IFS=. read -r min_major min_minor min_patch <<<"$MIN_NODE"
min_minor=${min_minor:-0}
min_patch=${min_patch:-0}

NODE=$(command -v node || true)
[ -n "$NODE" ] ||
  die 1 "node not found on PATH ($PATH); promflux needs Node.js >= $MIN_NODE (package.json engines)"
[[ $NODE =~ ^/[A-Za-z0-9._/+-]*$ ]] ||
  die 1 "node is at '$NODE': the unit's ExecStart needs an absolute path without spaces or quotes"
node_version=$("$NODE" --version 2>/dev/null || true)
if [[ $node_version =~ ^v([0-9]+)\.([0-9]+)\.([0-9]+) ]]; then
  major=${BASH_REMATCH[1]} minor=${BASH_REMATCH[2]} patch=${BASH_REMATCH[3]}
else
  die 1 "cannot tell the version of $NODE ('node --version' printed '$node_version')"
fi
if ((major < min_major || (major == min_major && (minor < min_minor ||
  (minor == min_minor && patch < min_patch))))); then
  die 1 "Node $node_version at $NODE is too old: promflux needs >= $MIN_NODE (package.json engines)." \
    "Install a newer Node.js (NodeSource or nodejs.org) and put it first on PATH."
fi
say "Node $node_version at $NODE (>= $MIN_NODE required); the unit will run it from there"
case $NODE in
  /home/* | /root/* | /run/user/*) warn "$NODE is hidden from the service by ProtectHome=yes: install Node system-wide (e.g. /usr/bin/node)" ;;
  /tmp/* | /var/tmp/*) warn "$NODE is hidden from the service by PrivateTmp=yes: install Node system-wide" ;;
esac

for f in dist/cli/main.js bin/promflux.js systemd/promflux.service config/promflux.example.yaml; do
  [ -f "$SRC/$f" ] || die 1 "$SRC/$f is missing: build the checkout first (npm ci && npm run build)"
done
[ -d "$SRC/node_modules" ] || die 1 "$SRC/node_modules is missing: run npm ci && npm run build first"
newer=$(find "$SRC/src" -name '*.ts' -newer "$SRC/dist/cli/main.js" -print -quit 2>/dev/null || true)
[ -z "$newer" ] || warn "dist/ is older than ${newer#"$SRC/"}: run npm run build to install the current code"
version=$(sed -n 's/^[[:space:]]*"version"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$SRC/package.json" | head -n1)
# After the checks above, which need no root: a user without it learns about them first.
if [ "$DRY_RUN" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
  die 1 "must run as root (to create the user, chown files and install the unit); try --dry-run"
fi

# --- 2. The app ----------------------------------------------------------------------------------
# Path list with modes: diff -r compares content only.
tree_modes() { (cd "$1" && find . -printf '%P %y %m %l\n' | LC_ALL=C sort); }

APP_CHANGED=0
if [ -e "$R_PREFIX" ] || [ -L "$R_PREFIX" ]; then
  if [ ! -d "$R_PREFIX" ] || [ -L "$R_PREFIX" ]; then die 1 "$R_PREFIX exists and is not a directory"; fi
  if [ -n "$(ls -A "$R_PREFIX")" ] && ! grep -qs '"name"[[:space:]]*:[[:space:]]*"promflux"' "$R_PREFIX/package.json"; then
    die 1 "$R_PREFIX is not empty and holds no promflux install (no package.json named promflux): refusing to replace it; choose another --prefix"
  fi
fi
if [ "$DRY_RUN" -eq 1 ]; then
  say "[dry-run] would install promflux $version (npm pack of $SRC + production node_modules) into $R_PREFIX, replacing it if it differs"
else
  command -v npm >/dev/null 2>&1 || die 1 "npm not found on PATH (it comes with Node.js; needed to pack the app)"
  # Assembled in $WORK first, so that an unchanged install touches nothing under the prefix.
  app=$WORK/app
  mkdir -m 0755 "$app"
  # --ignore-scripts: no prepack/prepare hooks; the checkout is already built.
  if ! tarball=$(cd "$SRC" && npm pack --ignore-scripts --silent --pack-destination "$WORK" 2>"$WORK/npm.err"); then
    cat "$WORK/npm.err" >&2
    die 1 "npm pack failed in $SRC"
  fi
  tar -xzf "$WORK/${tarball##*$'\n'}" -C "$app" --strip-components=1 --no-same-owner
  # Production packages from package-lock.json (entries not marked "dev"), not `npm ls`: its view
  # of a node_modules differs between npm versions and install histories (extraneous packages).
  if ! node -e '
    const lock = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    for (const [key, entry] of Object.entries(lock.packages ?? {})) {
      const rel = key.replace(/^node_modules\//, "");
      if (rel === key || entry.dev || rel.includes("/node_modules/")) continue;
      console.log((entry.optional ? "optional " : "required ") + rel);
    }' "$SRC/package-lock.json" >"$WORK/deps" 2>"$WORK/npm.err"; then
    cat "$WORK/npm.err" >&2
    die 1 "cannot read the production dependencies from $SRC/package-lock.json"
  fi
  mkdir -p "$app/node_modules"
  ndeps=0
  while read -r need rel; do
    # Optional packages for other platforms are in the lock file but not installed.
    if [ ! -d "$SRC/node_modules/$rel" ]; then
      [ "$need" = optional ] && continue
      die 1 "$SRC/node_modules/$rel is missing; run npm ci"
    fi
    mkdir -p "$app/node_modules/$(dirname "$rel")"
    cp -R "$SRC/node_modules/$rel" "$app/node_modules/$rel"
    ndeps=$((ndeps + 1))
  done <"$WORK/deps"
  if [ -d "$R_PREFIX" ] && diff -rq --no-dereference "$app" "$R_PREFIX" >/dev/null 2>&1 &&
    [ "$(tree_modes "$app")" = "$(tree_modes "$R_PREFIX")" ]; then
    say "$R_PREFIX already holds promflux $version with the same files: unchanged"
  else
    # Moved next to the prefix (a copy across file systems), then two renames: the old tree is
    # never half overwritten.
    mkdir -p "$(dirname "$R_PREFIX")"
    STAGE=$(mktemp -d "$(dirname "$R_PREFIX")/.promflux-install.XXXXXX")
    rmdir "$STAGE"
    mv "$app" "$STAGE"
    if [ -d "$R_PREFIX" ]; then mv "$R_PREFIX" "$STAGE.old"; fi
    mv "$STAGE" "$R_PREFIX"
    rm -rf "$STAGE.old"
    STAGE=""
    APP_CHANGED=1
    say "installed promflux $version into $R_PREFIX ($ndeps production packages in node_modules)"
  fi
fi

# --- 3. User and group ----------------------------------------------------------------------------
unit_src=$SRC/systemd/promflux.service
unit_user=$(sed -n 's/^User=//p' "$unit_src" | tail -n1)
unit_dynamic=$(sed -n 's/^DynamicUser=//p' "$unit_src" | tail -n1)
if [ -z "$unit_user" ] && [[ $unit_dynamic =~ ^(yes|true|on|1)$ ]]; then
  unit_user=promflux # DynamicUser without User=: systemd names the user after the unit
  say "the unit uses DynamicUser=yes; systemd runs it as the static user '$SVC_USER' when that exists (sandboxing stays)"
fi
[ -n "$unit_user" ] || die 1 "$unit_src names no user (User= or DynamicUser=yes): it would run as root"

NOLOGIN=/usr/sbin/nologin
[ -x "$NOLOGIN" ] || NOLOGIN=/sbin/nologin
FILE_GROUP=0 # who owns the config files (group); root until the service group is known
if [ -n "$ROOT" ]; then
  say "--root: not creating user $SVC_USER; create it on the target system (useradd --system --user-group --no-create-home --home-dir /nonexistent --shell $NOLOGIN $SVC_USER)"
  gid=""
  [ ! -f "$ROOT/etc/group" ] || gid=$(awk -F: -v n="$SVC_USER" '$1 == n { print $3; exit }' "$ROOT/etc/group")
  if [ -n "$gid" ]; then
    FILE_GROUP=$gid
    say "group $SVC_USER is gid $gid in $ROOT/etc/group: config files get that group"
  else
    warn "no group $SVC_USER in $ROOT/etc/group: config files stay root:root; on the target run: chgrp $SVC_USER $CONFIG_DIR $CONFIG $ENV_FILE"
  fi
elif getent passwd "$SVC_USER" >/dev/null; then
  say "user $SVC_USER exists (uid $(id -u "$SVC_USER"))"
  if getent group "$SVC_USER" >/dev/null; then FILE_GROUP=$SVC_USER; else FILE_GROUP=$(id -gn "$SVC_USER"); fi
else
  group_opt=(--user-group)
  ! getent group "$SVC_USER" >/dev/null || group_opt=(--gid "$SVC_USER")
  would "create system user $SVC_USER (useradd --system ${group_opt[*]} --no-create-home --home-dir /nonexistent --shell $NOLOGIN)" -- \
    useradd --system "${group_opt[@]}" --no-create-home --home-dir /nonexistent --shell "$NOLOGIN" \
    --comment "promflux daemon" "$SVC_USER"
  [ "$DRY_RUN" -eq 1 ] || say "created system user $SVC_USER (uid $(id -u "$SVC_USER"), group $SVC_USER)"
  FILE_GROUP=$SVC_USER
fi
group_name=$FILE_GROUP
[ "$FILE_GROUP" != 0 ] || group_name=root

# --- 4. Config dir, config, environment file -----------------------------------------------------
if [ -d "$R_CONFIG_DIR" ]; then
  what="make $R_CONFIG_DIR root:$group_name 0750 (it exists)"
else
  what="create $R_CONFIG_DIR (root:$group_name 0750)"
fi
if [ "$DRY_RUN" -eq 1 ]; then
  say "[dry-run] would $what"
else
  mkdir -p "$R_CONFIG_DIR"
  chown "0:$FILE_GROUP" "$R_CONFIG_DIR"
  chmod 0750 "$R_CONFIG_DIR"
  say "config dir $R_CONFIG_DIR: root:$group_name 0750"
fi

# Owner and group: numeric under --root (this system's names mean nothing there).
STAT_OWNER='%U:%G'
[ -z "$ROOT" ] || STAT_OWNER='%u:%g'
# install_new FILE SOURCE WHAT: installs SOURCE as FILE (root:GROUP 0640) unless FILE exists.
install_new() {
  local file=$1 source=$2 what=$3
  if [ -e "$file" ] || [ -L "$file" ]; then
    say "$file exists: kept as it is ($(stat -c "$STAT_OWNER %a" "$file"))"
    return
  fi
  would "install $what as $file (root:$group_name 0640)" -- \
    install -m 0640 -o 0 -g "$FILE_GROUP" "$source" "$file"
  [ "$DRY_RUN" -eq 1 ] || say "installed $what as $file (root:$group_name 0640)"
}

# The example keeps its state next to itself; the service may only write to its StateDirectory.
sed "s|^\([[:space:]]*state_dir:\)[[:space:]]*\./promflux-state[[:space:]]*\$|\1 $STATE_DIR|" \
  "$SRC/config/promflux.example.yaml" >"$WORK/promflux.yaml"
install_new "$ROOT$CONFIG" "$WORK/promflux.yaml" "config/promflux.example.yaml (state_dir: $STATE_DIR)"

cat >"$WORK/promflux.env" <<EOF
# Environment of promflux.service (systemd EnvironmentFile=): KEY=value lines, no "export", no
# shell expansion. $CONFIG refers to them as \${KEY}; keep secrets here, not in the YAML.
# systemd reads this file as root when it starts the service. Mode 0640 root:$group_name.
#INFLUX_TOKEN=
#PROMETHEUS_URL=http://localhost:9090
#INFLUX_URL=http://localhost:8086
#PROMFLUX_LOG_LEVEL=INFO
EOF
install_new "$ROOT$ENV_FILE" "$WORK/promflux.env" "an environment file template"
if [ -f "$ROOT$ENV_FILE" ] && [ $(($(stat -c '%a' "$ROOT$ENV_FILE") % 10)) -ne 0 ]; then
  warn "every user may access $ROOT$ENV_FILE, which is meant for secrets: chmod 0640 $ROOT$ENV_FILE"
fi

# --- 5. Validate the config -----------------------------------------------------------------------
MISSING_VARS=()
if [ "$DRY_RUN" -eq 1 ]; then
  say "[dry-run] would validate $ROOT$CONFIG with promflux check-config as user $SVC_USER"
else
  # The service's environment: the EnvironmentFile's KEY=value lines (quotes around a value removed).
  env_vars=()
  declare -A env_set=()
  if [ -f "$ROOT$ENV_FILE" ]; then
    lineno=0
    while IFS= read -r line || [ -n "$line" ]; do
      lineno=$((lineno + 1))
      line=${line#"${line%%[![:space:]]*}"}
      [[ -z $line || $line == \#* || $line == \;* ]] && continue
      if [[ $line =~ ^([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*=[[:space:]]*(.*)$ ]]; then
        key=${BASH_REMATCH[1]} value=${BASH_REMATCH[2]}
        value=${value%"${value##*[![:space:]]}"}
        if [[ ${#value} -ge 2 && (($value == \"*\" && $value == *\") || ($value == \'*\' && $value == *\')) ]]; then
          value=${value:1:${#value}-2}
        fi
        env_vars+=("$key=$value")
        [ -z "$value" ] || env_set[$key]=1
      else
        warn "$ROOT$ENV_FILE line $lineno is not KEY=value; ignored here"
      fi
    done <"$ROOT$ENV_FILE"
  fi
  # Variables the config cannot do without (${VAR} and ${VAR:?message}; comment lines skipped).
  required=$(grep -v '^[[:space:]]*#' "$ROOT$CONFIG" | grep -oE '\$\{[A-Za-z_][A-Za-z0-9_]*(:\?[^}]*)?\}' |
    sed -E 's/^\$\{([A-Za-z_][A-Za-z0-9_]*).*/\1/' | LC_ALL=C sort -u || true)
  for name in $required; do
    if [ -z "${env_set[$name]:-}" ]; then
      MISSING_VARS+=("$name")
      env_vars+=("$name=placeholder-set-in-promflux.env")
    fi
  done

  runas=()
  as="user $SVC_USER"
  why=""
  if [ -n "$ROOT" ]; then
    as=root why=" (--root: the service user is not on this system)"
  elif command -v runuser >/dev/null 2>&1; then
    runas=("$(command -v runuser)" -u "$SVC_USER" --)
  elif command -v setpriv >/dev/null 2>&1; then
    runas=("$(command -v setpriv)" --reuid "$SVC_USER" --regid "$FILE_GROUP" --init-groups)
  else
    as=root why=" (neither runuser nor setpriv found)"
  fi
  say "validating $ROOT$CONFIG as $as$why"
  # A subshell exporting only the service's environment (nothing of this shell's; variables
  # stay set for the script, un-exported); `export` keeps secrets out of any argv.
  # Built first: a variable of the env file must not change the command.
  __install_systemd_check=("${runas[@]}" "$NODE" "$R_PREFIX/bin/promflux.js" check-config --config "$ROOT$CONFIG")
  check_out=$(
    cd /
    while IFS= read -r name; do export -n "${name?}" 2>/dev/null || true; done < <(compgen -e)
    export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    for kv in "${env_vars[@]}"; do export "${kv?}"; done
    "${__install_systemd_check[@]}" 2>&1
  ) && check_rc=0 || check_rc=$?
  case $check_rc in
    0) indent <<<"$check_out" ;;
    2)
      indent <<<"$check_out" >&2
      die 2 "$ROOT$CONFIG is invalid (promflux check-config exit 2, as $as): fix it and run this script again"
      ;;
    *)
      indent <<<"$check_out" >&2
      die 1 "promflux check-config could not run (exit $check_rc, as $as)"
      ;;
  esac
  for name in "${MISSING_VARS[@]}"; do
    warn "$name is not set in $ROOT$ENV_FILE but the config requires it: checked with a placeholder; set it before starting the service"
  done
  state=$(sed -n "s/^[[:space:]]*state_dir:[[:space:]]*[\"']\{0,1\}\([^\"' #]*\).*/\1/p" "$ROOT$CONFIG" | tail -n1)
  if [ "${state%/}" != "$STATE_DIR" ]; then
    warn "pipeline.state_dir is '${state:-./promflux-state (the default)}': the service can only write to $STATE_DIR (StateDirectory=promflux, ProtectSystem=strict); set state_dir: $STATE_DIR"
  fi
fi

# --- 6. The unit ----------------------------------------------------------------------------------
# Placeholders first, so that a prefix containing "/etc/promflux" is not replaced twice.
sed -e 's|/opt/promflux|@PREFIX@|g' -e 's|/etc/promflux|@CONFIG_DIR@|g' \
  -e 's|^ExecStart=/usr/bin/node |ExecStart=@NODE@ |' "$unit_src" |
  sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@CONFIG_DIR@|$CONFIG_DIR|g" -e "s|@NODE@|$NODE|g" >"$WORK/unit"
if [ "$SVC_USER" != "$unit_user" ]; then
  unit_group=$SVC_USER
  [ -n "$ROOT" ] || [ "$group_name" = root ] || unit_group=$group_name
  if grep -q '^User=' "$WORK/unit"; then
    sed -i -e "s|^User=.*|User=$SVC_USER|" -e '/^Group=/d' -e "/^User=/a Group=$unit_group" "$WORK/unit"
  else
    sed -i -e "/^DynamicUser=/a User=$SVC_USER" -e "/^DynamicUser=/a Group=$unit_group" "$WORK/unit"
  fi
fi
# Node's flags (the unit's, e.g. --max-semi-space-size=4) sit between node and the script.
grep -Eq "^ExecStart=$NODE( --[^ ]+)* $PREFIX/bin/promflux.js " "$WORK/unit" ||
  die 1 "could not adapt ExecStart in $unit_src (expected 'ExecStart=/usr/bin/node [--node-flags] /opt/promflux/bin/promflux.js ...')"

UNIT_CHANGED=0
if [ -f "$ROOT$UNIT" ] && cmp -s "$WORK/unit" "$ROOT$UNIT"; then
  say "$ROOT$UNIT is up to date"
else
  what=install
  [ ! -f "$ROOT$UNIT" ] || what="update (local changes belong in a drop-in: systemctl edit promflux)"
  would "$what $ROOT$UNIT" -- install -D -m 0644 -o 0 -g 0 "$WORK/unit" "$ROOT$UNIT"
  if [ "$DRY_RUN" -eq 0 ]; then
    UNIT_CHANGED=1
    say "installed $ROOT$UNIT"
  fi
fi
case $UNIT_DIR in
  /etc/systemd/system | /run/systemd/system | /usr/lib/systemd/system | /lib/systemd/system | /usr/local/lib/systemd/system) ;;
  *) warn "systemd does not load units from $UNIT_DIR" ;;
esac
for dir in "$PREFIX" "$CONFIG_DIR"; do
  case $dir/ in
    /home/* | /root/* | /run/user/*) warn "$dir is hidden from the service by ProtectHome=yes" ;;
    /tmp/* | /var/tmp/*) warn "$dir is hidden from the service by PrivateTmp=yes" ;;
  esac
done

if [ "$DRY_RUN" -eq 0 ]; then
  analyze=$(command -v systemd-analyze || true)
  if [ -z "$analyze" ]; then
    say "systemd-analyze not found: unit not verified"
  elif verify_out=$("$analyze" verify --man=no "$ROOT$UNIT" 2>&1); then
    say "systemd-analyze verify: ok"
    [ -z "$verify_out" ] || indent <<<"$verify_out" >&2
  else
    indent <<<"$verify_out" >&2
    die 1 "systemd-analyze verify rejected $ROOT$UNIT"
  fi
fi

if [ -n "$ROOT" ]; then
  say "--root: no systemctl daemon-reload (run it on the target system)"
elif [ ! -d /run/systemd/system ]; then
  say "systemd is not running here (no /run/systemd/system, e.g. a container): no systemctl daemon-reload"
else
  would "run systemctl daemon-reload" -- systemctl daemon-reload
  if [ "$DRY_RUN" -eq 0 ]; then
    say "systemctl daemon-reload: done"
    if systemctl is-active --quiet promflux && [ $((APP_CHANGED + UNIT_CHANGED)) -gt 0 ]; then
      say "promflux is running the previous version: systemctl restart promflux"
    fi
  fi
fi

# --- Next steps -------------------------------------------------------------------------------------
listen=$( [ ! -f "$ROOT$CONFIG" ] || sed -n "s/^[[:space:]]*listen:[[:space:]]*[\"']\{0,1\}\([^\"' #]*\).*/\1/p" "$ROOT$CONFIG" | tail -n1)
listen=${listen:-127.0.0.1:9469}
[[ $listen != :* ]] || listen=127.0.0.1$listen
ready="curl http://$listen/readyz"
[ "$listen" != false ] || ready="(server.listen is false: no /readyz; see the journal)"
[ "$DRY_RUN" -eq 0 ] || say "dry run finished: nothing was changed"
tokens=${MISSING_VARS[*]:-INFLUX_TOKEN}
cat <<EOF
install-systemd: done. Next steps (the service is neither enabled nor started):
  1. Edit $CONFIG (Prometheus and InfluxDB URLs, queries); run this script again to check it.
  2. Put the secrets into $ENV_FILE as KEY=value lines: ${tokens// /=..., }=...
EOF
if [ -n "$ROOT" ]; then
  cat <<EOF
  3. On the target system: create user $SVC_USER (see above), systemctl daemon-reload, then
     systemctl enable --now promflux
EOF
else
  echo "  3. systemctl enable --now promflux"
fi
cat <<EOF
  4. Follow it: journalctl -u promflux -f
  5. Ready once the first cycle ran: $ready
EOF
