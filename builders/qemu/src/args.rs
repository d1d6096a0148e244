//! The qemu command line: Packer's defaults, then `qemuargs` merged over them
//! as Packer merges them — a switch the user gives replaces *all* default
//! values of that switch; a switch given with no value is passed bare. Unlike
//! Packer (whose order follows Go map iteration), the order is fixed.

use crate::config::Prepared;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Everything the command line depends on besides the configuration.
pub struct Machine {
    pub accelerator: String,
    pub disks: Vec<PathBuf>,
    /// ISO images to attach as CD-ROMs, in order (the installer first).
    pub cdroms: Vec<PathBuf>,
    /// The firmware code and this VM's copy of the variable store.
    pub efi: Option<(PathBuf, PathBuf)>,
    /// The floppy image (`floppy_*`), attached as the first floppy drive.
    pub floppy: Option<PathBuf>,
    /// The control socket of this VM's swtpm (`vtpm`).
    pub tpm_socket: Option<PathBuf>,
    pub qmp_socket: PathBuf,
    pub serial_log: PathBuf,
    pub pidfile: PathBuf,
    /// `-no-reboot`: qemu exits when the guest resets, and is started again
    /// (see `bake_qemu_machine::vm`).
    pub restart_on_reset: bool,
    /// Host port forwarded to the guest's SSH port (`None`: no forward).
    pub ssh_host_port: Option<u16>,
    pub vnc_port: Option<u16>,
    /// Values for `{{ .Name }}` placeholders in qemuargs.
    pub template_values: BTreeMap<&'static str, String>,
}

pub fn command_line(p: &Prepared, vm_name: &str, m: &Machine) -> Result<Vec<String>, String> {
    let c = &p.config;
    let mut defaults: Vec<(String, Vec<String>)> = Vec::new();
    let mut add = |k: &str, v: String| match defaults.iter_mut().find(|(key, _)| key == k) {
        Some((_, vals)) => vals.push(v),
        None => defaults.push((k.to_string(), vec![v])),
    };
    add("-name", vm_name.to_string());
    add("-machine", if m.accelerator == "none" { format!("type={}", c.machine_type) } else { format!("type={},accel={}", c.machine_type, m.accelerator) });
    add("-m", format!("{}M", if c.memory < 10 { 512 } else { c.memory }));
    add("-smp", smp(c.cpus, c.sockets, c.cores, c.threads));
    if let Some(cpu) = &c.cpu_model {
        add("-cpu", cpu.clone());
    }
    if m.efi.is_none() {
        add("-boot", if c.disk_image { "c".into() } else { "once=d".into() });
    }
    add("-qmp", format!("unix:{},server,nowait", m.qmp_socket.display()));
    add(
        "-netdev",
        match m.ssh_host_port {
            Some(hp) => format!("user,id=user.0,hostfwd=tcp:127.0.0.1:{hp}-:{}", p.comm.ssh.port),
            None => "user,id=user.0".into(),
        },
    );
    if let Some(vnc) = m.vnc_port {
        add("-vnc", format!("{}:{}", c.vnc_bind_address, vnc - 5900));
    }
    if let Some(d) = display(c.headless, c.display.as_deref(), c.use_default_display, std::env::var_os("DISPLAY").is_some()) {
        add("-display", d);
    }
    if let Some(fw) = c.firmware.as_ref().filter(|_| !c.use_pflash) {
        add("-bios", fw.clone());
    }
    let scsi = c.disk_interface == "virtio-scsi";
    let scsi_cdroms = c.cdrom_interface.as_deref() == Some("virtio-scsi") && !m.cdroms.is_empty();
    if scsi || scsi_cdroms {
        add("-device", "virtio-scsi-pci,id=scsi0".into());
    }
    if scsi {
        for i in 0..m.disks.len() {
            add("-device", format!("scsi-hd,bus=scsi0.0,drive=drive{i}"));
        }
    }
    if scsi_cdroms {
        for i in 0..m.cdroms.len() {
            add("-device", format!("scsi-cd,bus=scsi0.0,drive=cdrom{i}"));
        }
    }
    add("-device", format!("{},netdev=user.0", c.net_device));
    if let Some(socket) = &m.tpm_socket {
        add("-chardev", format!("socket,id=chrtpm,path={}", socket.display()));
        add("-tpmdev", "emulator,id=tpm0,chardev=chrtpm".into());
        add("-device", format!("{},tpmdev=tpm0", c.tpm_device_type));
    }
    for (i, disk) in m.disks.iter().enumerate() {
        let mut d = if scsi {
            format!("if=none,file={},id=drive{i},cache={},discard={},format={}", disk.display(), c.disk_cache, c.disk_discard, c.format)
        } else {
            format!("file={},if={},cache={},discard={},format={}", disk.display(), c.disk_interface, c.disk_cache, c.disk_discard, c.format)
        };
        if c.disk_detect_zeroes != "off" {
            d.push_str(&format!(",detect-zeroes={}", c.disk_detect_zeroes));
        }
        add("-drive", d);
    }
    for (i, cd) in m.cdroms.iter().enumerate() {
        add(
            "-drive",
            match c.cdrom_interface.as_deref() {
                None => format!("file={},media=cdrom,readonly=on", cd.display()),
                Some("virtio-scsi") => format!("file={},if=none,id=cdrom{i},media=cdrom,readonly=on", cd.display()),
                Some(interface) => format!("file={},if={interface},id=cdrom{i},media=cdrom,readonly=on", cd.display()),
            },
        );
    }
    if let Some(fw) = c.firmware.as_ref().filter(|_| c.use_pflash) {
        add("-drive", format!("file={fw},if=pflash,format=raw,readonly=on"));
    }
    if let Some(floppy) = &m.floppy {
        add("-fda", floppy.display().to_string());
    }
    if let Some((code, vars)) = &m.efi {
        add("-drive", format!("file={},if=pflash,unit=0,format=raw,readonly=on", code.display()));
        add("-drive", format!("file={},if=pflash,unit=1,format=raw", vars.display()));
    }
    add("-serial", format!("file:{}", m.serial_log.display()));
    add("-pidfile", m.pidfile.display().to_string());
    if m.restart_on_reset {
        defaults.push(("-no-reboot".into(), Vec::new()));
    }

    // The user's qemuargs, rendered and grouped by switch.
    let mut user: Vec<(String, Vec<String>)> = Vec::new();
    for row in &c.qemuargs {
        let rendered: Vec<String> = row.iter().map(|a| bake_sdk::placeholders::render(a, &m.template_values)).collect::<Result<_, _>>()?;
        let (key, rest) = rendered.split_first().ok_or("an empty qemuargs entry")?;
        let value = rest.concat();
        let entry = match user.iter_mut().position(|(k, _)| k == key) {
            Some(i) => &mut user[i].1,
            None => {
                user.push((key.clone(), Vec::new()));
                &mut user.last_mut().expect("just pushed").1
            }
        };
        if !value.is_empty() {
            entry.push(value);
        }
    }
    let mut merged: Vec<(String, Vec<String>)> = Vec::new();
    for (k, v) in defaults {
        match user.iter().position(|(uk, _)| *uk == k) {
            Some(i) => merged.push(user.remove(i)),
            None => merged.push((k, v)),
        }
    }
    merged.extend(user);
    // Packer keeps the network device even when the user replaces -device.
    if let Some((_, devices)) = merged.iter_mut().find(|(k, _)| k == "-device") {
        if !devices.concat().contains(&c.net_device) {
            devices.push(format!("{},netdev=user.0", c.net_device));
        }
    }
    let mut argv = Vec::new();
    for (k, vals) in merged {
        if vals.is_empty() {
            argv.push(k.clone());
        }
        for v in vals {
            argv.push(k.clone());
            argv.push(v);
        }
    }
    Ok(argv)
}

/// Packer's `-smp` rule: cpus, capped at sockets × cores × threads when
/// those are given.
pub fn smp(cpus: Option<u32>, sockets: Option<u32>, cores: Option<u32>, threads: Option<u32>) -> String {
    let parts = [sockets, cores, threads];
    let given: Vec<u32> = parts.iter().flatten().copied().filter(|n| *n > 0).collect();
    let max: u32 = if given.is_empty() { 0 } else { given.iter().product() };
    let mut n = cpus.unwrap_or(0);
    if n == 0 {
        n = if max == 0 { 1 } else { max };
    } else if max != 0 && n > max {
        n = max;
    }
    let mut s = n.to_string();
    for (name, v) in [("sockets", sockets), ("cores", cores), ("threads", threads)] {
        if let Some(v) = v.filter(|v| *v > 0) {
            s.push_str(&format!(",{name}={v}"));
        }
    }
    s
}

/// `-display`: none when headless, when `use_default_display` leaves the
/// choice to qemu, or when no window can open (no X display); else
/// `display`, or gtk as Packer picks.
fn display(headless: bool, display: Option<&str>, use_default: bool, x_display: bool) -> Option<String> {
    if headless || use_default || !x_display {
        return None;
    }
    match display {
        Some("none") => None,
        Some(d) => Some(d.to_string()),
        None => Some("gtk".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command line for a disk-image source with `extra` options, two
    /// CD-ROMs, and what `machine` changes.
    fn argv_with(extra: &str, machine: impl FnOnce(&mut Machine)) -> Vec<String> {
        let src = format!("iso_url = \"d.qcow2\"\niso_checksum = \"none\"\ndisk_image = true\ncommunicator = \"none\"\n{extra}\n");
        let (_, body) = bake_sdk::testing::eval_body(&src);
        let p = crate::config::prepare(&body, "source").unwrap_or_else(|d| panic!("{d:?}"));
        let mut m = Machine {
            accelerator: "tcg".into(),
            disks: vec!["/o/d.qcow2".into()],
            cdroms: vec!["/r/cd.iso".into(), "/r/cidata.iso".into()],
            efi: None,
            floppy: None,
            tpm_socket: None,
            qmp_socket: "/r/qmp.sock".into(),
            serial_log: "/r/serial.log".into(),
            pidfile: "/r/qemu.pid".into(),
            restart_on_reset: false,
            ssh_host_port: None,
            vnc_port: None,
            template_values: BTreeMap::new(),
        };
        machine(&mut m);
        command_line(&p, "vm", &m).unwrap()
    }

    fn argv(extra: &str) -> Vec<String> {
        argv_with(extra, |_| {})
    }

    /// The values of every `flag` in `argv`, in order.
    fn values<'a>(argv: &'a [String], flag: &str) -> Vec<&'a str> {
        argv.windows(2).filter(|w| w[0] == flag).map(|w| w[1].as_str()).collect()
    }

    #[test]
    fn cdrom_interface_places_the_cdroms() {
        let default = argv("");
        assert_eq!(values(&default, "-drive")[1..], ["file=/r/cd.iso,media=cdrom,readonly=on", "file=/r/cidata.iso,media=cdrom,readonly=on"]);
        let ide = argv("cdrom_interface = \"ide\"");
        assert_eq!(
            values(&ide, "-drive")[1..],
            ["file=/r/cd.iso,if=ide,id=cdrom0,media=cdrom,readonly=on", "file=/r/cidata.iso,if=ide,id=cdrom1,media=cdrom,readonly=on"]
        );
        let scsi = argv("cdrom_interface = \"virtio-scsi\"");
        assert_eq!(values(&scsi, "-device")[..3], ["virtio-scsi-pci,id=scsi0", "scsi-cd,bus=scsi0.0,drive=cdrom0", "scsi-cd,bus=scsi0.0,drive=cdrom1"]);
        assert_eq!(values(&scsi, "-drive")[1], "file=/r/cd.iso,if=none,id=cdrom0,media=cdrom,readonly=on");
        // One controller for disks and CD-ROMs alike.
        let both = argv("cdrom_interface = \"virtio-scsi\"\ndisk_interface = \"virtio-scsi\"");
        assert_eq!(values(&both, "-device").iter().filter(|d| d.starts_with("virtio-scsi-pci")).count(), 1);
        assert!(values(&both, "-device").contains(&"scsi-hd,bus=scsi0.0,drive=drive0"));
    }

    #[test]
    fn firmware_is_bios_or_pflash() {
        let bios = argv("firmware = \"bios-256k.bin\"");
        assert_eq!(values(&bios, "-bios"), ["bios-256k.bin"]);
        assert!(!values(&bios, "-drive").iter().any(|d| d.contains("pflash")));
        let pflash = argv("firmware = \"bios-256k.bin\"\nuse_pflash = true");
        assert!(values(&pflash, "-bios").is_empty());
        assert!(values(&pflash, "-drive").contains(&"file=bios-256k.bin,if=pflash,format=raw,readonly=on"));
    }

    #[test]
    fn floppy_and_tpm_are_attached() {
        let argv = argv_with("tpm_device_type = \"tpm-crb\"", |m| {
            m.floppy = Some("/r/floppy.img".into());
            m.tpm_socket = Some("/r/tpm/swtpm.sock".into());
        });
        assert_eq!(values(&argv, "-fda"), ["/r/floppy.img"]);
        assert_eq!(values(&argv, "-chardev"), ["socket,id=chrtpm,path=/r/tpm/swtpm.sock"]);
        assert_eq!(values(&argv, "-tpmdev"), ["emulator,id=tpm0,chardev=chrtpm"]);
        assert!(values(&argv, "-device").contains(&"tpm-crb,tpmdev=tpm0"));
        let none = self::argv("");
        assert!(values(&none, "-fda").is_empty() && values(&none, "-tpmdev").is_empty());
    }

    #[test]
    fn use_default_display_passes_no_display() {
        assert_eq!(display(false, Some("sdl"), false, true).as_deref(), Some("sdl"));
        assert_eq!(display(false, None, false, true).as_deref(), Some("gtk"));
        assert_eq!(display(false, Some("none"), false, true), None);
        assert_eq!(display(false, Some("sdl"), true, true), None);
        assert_eq!(display(true, None, false, true), None);
        assert_eq!(display(false, Some("sdl"), false, false), None);
    }

    #[test]
    fn smp_follows_packer() {
        assert_eq!(smp(None, None, None, None), "1");
        assert_eq!(smp(Some(2), None, None, None), "2");
        assert_eq!(smp(Some(2), Some(1), None, None), "1,sockets=1");
        assert_eq!(smp(None, Some(2), Some(5), Some(2)), "20,sockets=2,cores=5,threads=2");
        assert_eq!(smp(Some(8), Some(2), Some(2), None), "4,sockets=2,cores=2");
    }
}
