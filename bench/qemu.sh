#!/usr/bin/env bash
# Benchmark: the web example, cold (no output yet; the Debian base image is
# built first if it is not cached, and timed apart), against the same steps
# done by hand with qemu-img, qemu and the OpenSSH client in the same run.
#
# Reports boot-to-SSH, provisioning, shutdown and convert times for both, and
# bake's overhead: (bake's wall time without the base image) − (by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# BAKE=path/to/bake measures that binary instead of building one.
if [[ -z ${BAKE:-} ]]; then
  cargo build --release --locked -q
fi
bake=$(realpath "${BAKE:-$root/target/release/bake}")  # the script changes directory
work=$(mktemp -d /tmp/bake-bench-qemu.XXXXXX)
qemu_pid=
cleanup() {
  [[ -n $qemu_pid ]] && kill "$qemu_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.1f}')"; }

# The base image, so that neither run pays for it.
t0=$(now)
base_out=$("$bake" build -machine-readable "$root/bench/base-image.pkr.hcl")
base=$(printf '%s\n' "$base_out" | sed -n 's/.*BASE_IMAGE=\(.*\)$/\1/p' | head -1)
echo "base image: $base ($(elapsed "$t0" "$(now)") s, cached after the first run)"

# --- bake --------------------------------------------------------------------
mkdir -p "$work/bake"
cd "$work/bake"
t0=$(now)
"$bake" build -machine-readable "$root/examples/web.pkr.hcl" > bake.log || { tail -40 bake.log >&2; exit 1; }
bake_wall=$(elapsed "$t0" "$(now)")
step() { awk -F, -v s="$1" '$3=="step-finished" && $4==s {print $5}' bake.log | head -1; }
b_start=$(step "Starting the VM"); b_ssh=$(step "Waiting for SSH"); b_prov=$(step "Provisioning")
b_shut=$(step "Shutting down the VM"); b_conv=$(step "Converting the disk")
# The example's second shell provisioner is the reboot.
b_reboot=$(awk -F, '$3=="step-finished" && $4=="Provisioning with shell" {print $5}' bake.log | sed -n 2p)
b_boot=$(python3 -c "print(f'{$b_start + $b_ssh:.1f}')")
ls -l output/web/web.qcow2 >/dev/null

# --- by hand -----------------------------------------------------------------
mkdir -p "$work/hand/seed"
cd "$work/hand"
t0=$(now)
ssh-keygen -q -t ed25519 -N '' -f key
printf 'instance-id: bench\n' > seed/meta-data
printf '#cloud-config\nusers:\n  - name: debian\n    sudo: ALL=(ALL) NOPASSWD:ALL\n    shell: /bin/bash\n    ssh_authorized_keys: ["%s"]\n' "$(cat key.pub)" > seed/user-data
xorriso -as genisoimage -quiet -rock -joliet -volid cidata -output seed.iso seed
qemu-img convert -O qcow2 "$base" disk.qcow2
qemu-img resize -q disk.qcow2 4G
cp /usr/share/OVMF/OVMF_VARS_4M.fd vars.fd
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
accel=$(awk -F, '$3=="ui" && /Accelerator: /{sub(/.*Accelerator: /,""); print $1; exit}' "$work/bake/bake.log" | cut -d' ' -f1)
qemu-system-x86_64 -machine "type=pc,accel=${accel:-tcg}" -m 1024M -smp 2 \
  -netdev "user,id=user.0,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net,netdev=user.0 \
  -drive file=disk.qcow2,if=virtio,cache=writeback,discard=ignore,format=qcow2 \
  -drive file=seed.iso,media=cdrom,readonly=on \
  -drive file=/usr/share/OVMF/OVMF_CODE_4M.fd,if=pflash,unit=0,format=raw,readonly=on \
  -drive file=vars.fd,if=pflash,unit=1,format=raw \
  -serial file:serial.log -display none &
qemu_pid=$!
t_started=$(now)
common=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=5 -o LogLevel=ERROR -i key)
ssh_opts=("${common[@]}" -p "$port")
wait_ssh() { until ssh "${ssh_opts[@]}" debian@127.0.0.1 true 2>/dev/null; do sleep 1; done; }
wait_ssh
h_boot=$(elapsed "$t_started" "$(now)")
t1=$(now)
scp -q -P "$port" "${common[@]}" "$root/examples/web/index.html" debian@127.0.0.1:/tmp/index.html
ssh "${ssh_opts[@]}" debian@127.0.0.1 'set -e; export DEBIAN_FRONTEND=noninteractive; sudo -E apt-get update -q; sudo -E apt-get install -y -q --no-install-recommends nginx; sudo install -m 0644 /tmp/index.html /var/www/html/index.html; sudo systemctl enable nginx' >/dev/null
# The reboot counts once the guest answers with a new boot id: sshd may
# still take a connection while the old system goes down.
boot_id() { ssh "${ssh_opts[@]}" debian@127.0.0.1 cat /proc/sys/kernel/random/boot_id 2>/dev/null; }
old_boot=$(boot_id)
t2=$(now)
ssh "${ssh_opts[@]}" debian@127.0.0.1 'sudo systemctl reboot' || true
until new_boot=$(boot_id) && [[ -n $new_boot && $new_boot != "$old_boot" ]]; do sleep 1; done
h_reboot=$(elapsed "$t2" "$(now)")
ssh "${ssh_opts[@]}" debian@127.0.0.1 "systemctl is-active nginx && grep -q 'Baked by bake' /var/www/html/index.html && sudo cloud-init clean --logs" >/dev/null
h_prov=$(elapsed "$t1" "$(now)")
t1=$(now)
ssh "${ssh_opts[@]}" debian@127.0.0.1 'sudo systemctl poweroff' || true
wait "$qemu_pid" || true
qemu_pid=
h_shut=$(elapsed "$t1" "$(now)")
t1=$(now)
mkdir -p out && qemu-img convert -O qcow2 disk.qcow2 out/web.qcow2
h_conv=$(elapsed "$t1" "$(now)")
hand_wall=$(elapsed "$t0" "$(now)")

printf '\n%-22s %10s %10s\n' "" "bake (s)" "by hand (s)"
printf '%-22s %10s %10s\n' "boot to SSH" "$b_boot" "$h_boot"
printf '%-22s %10s %10s\n' "provisioning" "$b_prov" "$h_prov"
printf '%-22s %10s %10s\n' "  of which the reboot" "$b_reboot" "$h_reboot"
printf '%-22s %10s %10s\n' "shutdown" "$b_shut" "$h_shut"
printf '%-22s %10s %10s\n' "convert" "$b_conv" "$h_conv"
printf '%-22s %10s %10s\n' "total (wall)" "$bake_wall" "$hand_wall"
python3 -c "b=$bake_wall; h=$hand_wall; print(f'bake overhead: {b-h:+.1f} s ({(b-h)/h*100:+.1f}%)')"
# Under TCG bake reboots the guest into a fresh qemu (crates/qemu-machine/src/vm.rs)
# where the hand-run reset stays in one process: the reboot's firmware time
# differs by design. bake's overhead on everything else:
python3 -c "b=$bake_wall-$b_reboot; h=$hand_wall-$h_reboot; print(f'bake overhead without the reboot: {b-h:+.1f} s ({(b-h)/h*100:+.1f}%)')"
