//! CIDR functions for IPv4 and IPv6, with the arithmetic of the go-cidr
//! package Packer uses. Addresses are held as integers of the address
//! family's width (32 or 128 bits).

use super::string::{int_arg, string_arg};
use super::{arity, FuncContext, FuncError, FuncResult};
use crate::value::Value;
use std::net::{Ipv4Addr, Ipv6Addr};

pub const NAMES: &[&str] = &["cidrhost", "cidrnetmask", "cidrsubnet", "cidrsubnets"];

pub fn call(name: &str, args: &[Value], _ctx: &FuncContext) -> FuncResult {
    match name {
        "cidrhost" => cidrhost(name, args),
        "cidrnetmask" => {
            arity(name, args, 1, Some(1))?;
            let net = prefix_arg(args)?;
            Ok(Value::String(ip_string(mask(net.prefix, net.bits), net.bits)))
        }
        "cidrsubnet" => cidrsubnet(name, args),
        "cidrsubnets" => cidrsubnets(name, args),
        _ => Err(FuncError::new(format!("there is no function named \"{name}\""))),
    }
}

/// An address prefix: the network address (host bits zero), its length and
/// the width of the address family.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Net {
    addr: u128,
    prefix: u32,
    bits: u32,
}

impl Net {
    fn last(&self) -> u128 {
        self.addr | ones(self.bits - self.prefix)
    }

    fn contains(&self, addr: u128) -> bool {
        addr & mask(self.prefix, self.bits) == self.addr
    }

    /// The network of `prefix` bits that contains `addr`.
    fn of(addr: u128, prefix: u32, bits: u32) -> Net {
        Net { addr: addr & mask(prefix, bits), prefix, bits }
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", ip_string(self.addr, self.bits), self.prefix)
    }
}

/// The lowest `n` bits set.
fn ones(n: u32) -> u128 {
    if n >= 128 {
        u128::MAX
    } else {
        (1u128 << n) - 1
    }
}

/// The netmask of a `prefix`-bit prefix in a `bits`-wide address.
fn mask(prefix: u32, bits: u32) -> u128 {
    ones(bits) & !ones(bits - prefix.min(bits))
}

/// Parses CIDR notation as Go's net.ParseCIDR does: a plain address (no
/// leading zeros in IPv4, no IPv6 zone) and a decimal prefix length within
/// the address size. The host bits are cleared.
fn parse_cidr(s: &str) -> Option<Net> {
    let (addr, len) = s.split_once('/')?;
    let (value, bits) = match addr.parse::<Ipv4Addr>() {
        Ok(v4) => (u32::from(v4) as u128, 32),
        Err(_) => (u128::from(addr.parse::<Ipv6Addr>().ok()?), 128),
    };
    if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let prefix = len.parse::<u32>().ok().filter(|p| *p <= bits)?;
    Some(Net::of(value, prefix, bits))
}

fn prefix_arg(args: &[Value]) -> Result<Net, FuncError> {
    let text = string_arg(args, 0, "prefix")?;
    parse_cidr(&text).ok_or_else(|| FuncError::arg(0, format!("invalid CIDR expression: invalid CIDR address: {text}")))
}

/// Go's IP.String: dotted quads for IPv4 (and IPv4-mapped IPv6), RFC 5952
/// text for other IPv6 addresses.
fn ip_string(addr: u128, bits: u32) -> String {
    if bits == 32 {
        return Ipv4Addr::from(addr as u32).to_string();
    }
    let v6 = Ipv6Addr::from(addr);
    match v6.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => v6.to_string(),
    }
}

/// The address numbered `hostnum` within the prefix; negative numbers count
/// back from the last address.
fn cidrhost(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 2, Some(2))?;
    let host = int_arg(args, 1, "hostnum")?;
    let net = prefix_arg(args)?;
    let max = ones(net.bits - net.prefix);
    // -1 is the last address, so -n is counted as n-1 back from it.
    let magnitude = if host >= 0 { host as u128 } else { (-(host as i128) - 1) as u128 };
    if magnitude > max {
        return Err(FuncError::arg(1, format!("prefix of {} does not accommodate a host numbered {host}", net.prefix)));
    }
    let offset = if host >= 0 { magnitude } else { max - magnitude };
    Ok(Value::String(ip_string(net.addr | offset, net.bits)))
}

/// The `netnum`th subnet of the prefix extended by `newbits` bits.
fn cidrsubnet(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 3, Some(3))?;
    let newbits = int_arg(args, 1, "newbits")?;
    let netnum = int_arg(args, 2, "netnum")?;
    let net = prefix_arg(args)?;
    if newbits > 32 {
        return Err(FuncError::arg(1, "may not extend prefix by more than 32 bits"));
    }
    if newbits < 0 {
        return Err(FuncError::arg(1, "may not shorten the prefix: newbits must not be negative"));
    }
    let new_prefix = net.prefix + newbits as u32;
    if new_prefix > net.bits {
        return Err(FuncError::arg(1, format!("insufficient address space to extend prefix of {} by {newbits}", net.prefix)));
    }
    // Negative numbers are out of range too: Go compares them as unsigned.
    if netnum as u64 > (1u64 << newbits) - 1 {
        return Err(FuncError::arg(2, format!("prefix extension of {newbits} does not accommodate a subnet numbered {netnum}")));
    }
    let addr = net.addr | ((netnum as u128) << (net.bits - new_prefix));
    Ok(Value::String(Net { addr, prefix: new_prefix, bits: net.bits }.to_string()))
}

/// Consecutive subnets of the given extensions, each aligned to its size
/// and placed after the previous one, as go-cidr's NextSubnet allocates.
fn cidrsubnets(name: &str, args: &[Value]) -> FuncResult {
    arity(name, args, 1, None)?;
    let net = prefix_arg(args)?;
    if args.len() == 1 {
        return Ok(Value::List(Vec::new()));
    }
    let family = if net.bits == 32 { "IPv4" } else { "IPv6" };
    let first = int_arg(args, 1, "newbits")?.clamp(0, 128) as u32 + net.prefix;
    // Start just below the prefix so the first subnet lands at its start.
    let mut current = Net::of(dec(net.addr, net.bits), first.min(net.bits), net.bits);
    let mut out = Vec::with_capacity(args.len() - 1);
    for i in 1..args.len() {
        let newbits = int_arg(args, i, "newbits")?;
        if newbits < 1 {
            return Err(FuncError::arg(i, "must extend prefix by at least one bit"));
        }
        if newbits > 32 {
            return Err(FuncError::arg(i, "may not extend prefix by more than 32 bits"));
        }
        let length = net.prefix + newbits as u32;
        if length > net.bits {
            return Err(FuncError::arg(i, format!("would extend prefix to {length} bits, which is too long for an {family} address")));
        }
        let (next, rollover) = next_subnet(&current, length);
        if rollover || !net.contains(next.addr) {
            return Err(FuncError::arg(i, format!("not enough remaining address space for a subnet with a prefix of {length} bits after {current}")));
        }
        current = next;
        out.push(Value::String(current.to_string()));
    }
    Ok(Value::List(out))
}

fn dec(addr: u128, bits: u32) -> u128 {
    addr.wrapping_sub(1) & ones(bits)
}

/// go-cidr's NextSubnet: the `prefix`-bit network following the one that
/// holds `current`'s last address; true when the address space wrapped.
fn next_subnet(current: &Net, prefix: u32) -> (Net, bool) {
    let containing = Net::of(current.last(), prefix, current.bits);
    let start = containing.last().wrapping_add(1) & ones(current.bits);
    (Net::of(start, prefix, current.bits), start == 0)
}

#[cfg(test)]
mod tests {
    use super::super::string::testutil::{err, list, n, ok, s};
    use super::*;

    #[test]
    fn cidrhost_numbers_hosts() {
        assert_eq!(ok("cidrhost", vec![s("10.12.112.0/20"), n(16.0)]), s("10.12.112.16"));
        assert_eq!(ok("cidrhost", vec![s("10.12.112.0/20"), n(268.0)]), s("10.12.113.12"));
        assert_eq!(ok("cidrhost", vec![s("10.12.112.0/20"), n(-1.0)]), s("10.12.127.255"));
        assert_eq!(ok("cidrhost", vec![s("192.168.1.0/24"), n(-256.0)]), s("192.168.1.0"));
        assert_eq!(ok("cidrhost", vec![s("192.168.1.77/24"), n(5.0)]), s("192.168.1.5"));
        assert_eq!(ok("cidrhost", vec![s("fd00:fd12:3456:7890:00a2::/72"), n(34.0)]), s("fd00:fd12:3456:7890::22"));
        assert_eq!(ok("cidrhost", vec![s("::/0"), n(1.0)]), s("::1"));
        assert_eq!(err("cidrhost", vec![s("192.168.1.0/24"), n(256.0)]), "prefix of 24 does not accommodate a host numbered 256");
        assert_eq!(err("cidrhost", vec![s("192.168.1.0/24"), n(-257.0)]), "prefix of 24 does not accommodate a host numbered -257");
        assert_eq!(err("cidrhost", vec![s("1.2.3.4"), n(1.0)]), "invalid CIDR expression: invalid CIDR address: 1.2.3.4");
        assert!(err("cidrhost", vec![s("10.0.0.0/8"), n(1.5)]).contains("whole number"));
    }

    #[test]
    fn cidrnetmask_masks() {
        assert_eq!(ok("cidrnetmask", vec![s("172.16.0.0/12")]), s("255.240.0.0"));
        assert_eq!(ok("cidrnetmask", vec![s("10.0.0.0/0")]), s("0.0.0.0"));
        assert_eq!(ok("cidrnetmask", vec![s("10.0.0.1/32")]), s("255.255.255.255"));
        assert_eq!(ok("cidrnetmask", vec![s("fd00::/64")]), s("ffff:ffff:ffff:ffff::"));
        assert!(err("cidrnetmask", vec![s("10.0.0.0/33")]).contains("invalid CIDR address"));
        assert!(err("cidrnetmask", vec![s("010.0.0.0/8")]).contains("invalid CIDR address"));
        assert!(err("cidrnetmask", vec![s("10.0.0.0/+8")]).contains("invalid CIDR address"));
        assert!(err("cidrnetmask", vec![s("fe80::1%eth0/64")]).contains("invalid CIDR address"));
    }

    #[test]
    fn cidrsubnet_extends() {
        assert_eq!(ok("cidrsubnet", vec![s("172.16.0.0/12"), n(4.0), n(2.0)]), s("172.18.0.0/16"));
        assert_eq!(ok("cidrsubnet", vec![s("10.1.2.0/24"), n(4.0), n(15.0)]), s("10.1.2.240/28"));
        assert_eq!(ok("cidrsubnet", vec![s("10.1.2.0/24"), n(0.0), n(0.0)]), s("10.1.2.0/24"));
        assert_eq!(ok("cidrsubnet", vec![s("fd00:fd12:3456:7890::/56"), n(16.0), n(162.0)]), s("fd00:fd12:3456:7800:a200::/72"));
        assert_eq!(err("cidrsubnet", vec![s("10.1.2.0/24"), n(4.0), n(16.0)]), "prefix extension of 4 does not accommodate a subnet numbered 16");
        assert_eq!(err("cidrsubnet", vec![s("10.1.2.0/24"), n(4.0), n(-1.0)]), "prefix extension of 4 does not accommodate a subnet numbered -1");
        assert_eq!(err("cidrsubnet", vec![s("10.1.2.0/24"), n(9.0), n(0.0)]), "insufficient address space to extend prefix of 24 by 9");
        assert_eq!(err("cidrsubnet", vec![s("fd00::/56"), n(33.0), n(0.0)]), "may not extend prefix by more than 32 bits");
    }

    #[test]
    fn cidrsubnets_allocates_in_order() {
        assert_eq!(
            ok("cidrsubnets", vec![s("10.1.0.0/16"), n(4.0), n(4.0), n(8.0), n(4.0)]),
            list(&["10.1.0.0/20", "10.1.16.0/20", "10.1.32.0/24", "10.1.48.0/20"])
        );
        assert_eq!(
            ok("cidrsubnets", vec![s("fd00:fd12:3456:7890::/56"), n(16.0), n(16.0), n(16.0), n(32.0)]),
            list(&["fd00:fd12:3456:7800::/72", "fd00:fd12:3456:7800:100::/72", "fd00:fd12:3456:7800:200::/72", "fd00:fd12:3456:7800:300::/88"])
        );
        assert_eq!(ok("cidrsubnets", vec![s("10.0.0.0/8")]), list(&[]));
        assert_eq!(ok("cidrsubnets", vec![s("10.0.0.0/30"), n(1.0), n(1.0)]), list(&["10.0.0.0/31", "10.0.0.2/31"]));
        assert_eq!(
            err("cidrsubnets", vec![s("10.0.0.0/30"), n(1.0), n(1.0), n(1.0)]),
            "not enough remaining address space for a subnet with a prefix of 31 bits after 10.0.0.2/31"
        );
        assert_eq!(err("cidrsubnets", vec![s("10.0.0.0/8"), n(0.0)]), "must extend prefix by at least one bit");
        assert_eq!(err("cidrsubnets", vec![s("10.0.0.0/8"), n(33.0)]), "may not extend prefix by more than 32 bits");
        assert_eq!(err("cidrsubnets", vec![s("10.0.0.0/30"), n(3.0)]), "would extend prefix to 33 bits, which is too long for an IPv4 address");
    }

    #[test]
    fn ip_text() {
        assert_eq!(ip_string(0xffff_0a00_0001, 128), "10.0.0.1");
        assert_eq!(ip_string(1, 128), "::1");
        assert_eq!(ip_string(0x0a00_0001, 32), "10.0.0.1");
    }
}
