#!/usr/bin/env bash
# Install (once) and start a one-node SLURM on this host, for tests/test_slurm.py.
#
#   start_slurm.sh STATE_DIR CTLD_PORT SLURMD_PORT
#
# Installs Debian's munge, slurmctld, slurmd and slurm-client when `slurmctld` is missing, then
# writes STATE_DIR/slurm.conf (from slurm.conf.in next to this script; use it with
# SLURM_CONF=STATE_DIR/slurm.conf, /etc/slurm is left alone), starts munged (unless one already
# answers), slurmctld and a configless slurmd (it links the config at /run/slurm/conf for the
# jobs' srun) in the foreground as background processes, records "name pid" lines in
# STATE_DIR/pids for the caller to stop, and waits until the node is idle.
# Daemons listen on the given ports and talk over 127.0.0.1 only.
#
# Exit status: 0 ready; 77 SLURM cannot run here (not root, no apt, install failed, or a system
# /etc/slurm/slurm.conf that jobs would read instead); anything else: a daemon did not come up
# (see STATE_DIR/log/).
set -euo pipefail

STATE=$(realpath "$1")
CTLD_PORT=$2
SLURMD_PORT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
PIDS=$STATE/pids
mkdir -p "$STATE/log" "$STATE/ctld" "$STATE/spool"
: >"$PIDS"

skip() { echo "SKIP: $*" >&2; exit 77; }

# --- install ----------------------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || skip "not root"
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    command -v apt-get >/dev/null && command -v dpkg >/dev/null || skip "apt-get/dpkg unavailable"
    # Keep package scripts from starting the daemons with the packaged config.
    policy_added=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        policy_added=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    packages=(munge slurmctld slurmd slurm-client)
    ok=0
    apt-get install -y --no-install-recommends "${packages[@]}" >"$STATE/log/apt.log" 2>&1 && ok=1
    if [ $ok -eq 0 ]; then
        apt-get update >>"$STATE/log/apt.log" 2>&1 \
            && apt-get install -y --no-install-recommends "${packages[@]}" \
                >>"$STATE/log/apt.log" 2>&1 && ok=1
    fi
    [ $policy_added -eq 1 ] && rm -f /usr/sbin/policy-rc.d
    [ $ok -eq 1 ] || skip "apt-get install ${packages[*]} failed: $(tail -n 3 "$STATE/log/apt.log")"
fi

# srun inside a job reads /etc/slurm/slurm.conf before the configless link under /run/slurm.
[ -e /etc/slurm/slurm.conf ] && skip "/etc/slurm/slurm.conf exists: jobs would use that cluster"

started=()
cleanup_on_error() {
    for pid in "${started[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup_on_error ERR

# --- munge ------------------------------------------------------------------------------------
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    echo "munged already running: reusing it" >&2
else
    if [ ! -s /etc/munge/munge.key ]; then
        mkdir -p /etc/munge
        mungekey --create --keyfile=/etc/munge/munge.key
    fi
    chown munge:munge /etc/munge /etc/munge/munge.key
    chmod 700 /etc/munge
    chmod 400 /etc/munge/munge.key
    install -d -o munge -g munge -m 755 /run/munge
    install -d -o munge -g munge -m 700 /var/lib/munge /var/log/munge
    setpriv --reuid=munge --regid=munge --init-groups munged --foreground \
        </dev/null >"$STATE/log/munged.out" 2>&1 &
    echo "munged $!" >>"$PIDS"
    started+=($!)
    for _ in $(seq 50); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
        sleep 0.2
    done
    munge -n | unmunge >/dev/null
fi

# --- slurm.conf -------------------------------------------------------------------------------
HOST=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(awk '/^MemTotal:/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)
sed -e "s|@HOST@|$HOST|g" -e "s|@STATE@|$STATE|g" -e "s|@CPUS@|$CPUS|g" \
    -e "s|@MEM_MB@|$MEM_MB|g" -e "s|@CTLD_PORT@|$CTLD_PORT|g" \
    -e "s|@SLURMD_PORT@|$SLURMD_PORT|g" "$HERE/slurm.conf.in" >"$STATE/slurm.conf"
export SLURM_CONF=$STATE/slurm.conf

# --- daemons ----------------------------------------------------------------------------------
slurmctld -D -c -f "$SLURM_CONF" </dev/null >"$STATE/log/slurmctld.out" 2>&1 &
echo "slurmctld $!" >>"$PIDS"
started+=($!)
for _ in $(seq 100); do
    scontrol ping 2>/dev/null | grep -q UP && break
    sleep 0.2
done
scontrol ping | grep -q UP

# Configless slurmd: it fetches slurm.conf from slurmctld and links it at /run/slurm/conf, where
# `srun` inside a job finds it (the jobstep executor drops SLURM_CONF from the job's environment).
slurmd -D --conf-server "127.0.0.1:$CTLD_PORT" </dev/null >"$STATE/log/slurmd.out" 2>&1 &
echo "slurmd $!" >>"$PIDS"
started+=($!)
for _ in $(seq 120); do
    state=$(sinfo -h -n "$HOST" -o %t 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 0.5
done
sinfo
[ "$(sinfo -h -n "$HOST" -o %t)" = idle ] || { echo "node $HOST is not idle" >&2; false; }
