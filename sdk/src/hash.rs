//! Hashing by name: the digests plugins compute or verify (`iso_checksum`,
//! the checksum post-processor), under the names Packer uses.

use sha2::Digest;

/// A digest algorithm, named as Packer names it (`md5`, `sha256` …).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    pub const ALL: [Algorithm; 6] = [Algorithm::Md5, Algorithm::Sha1, Algorithm::Sha224, Algorithm::Sha256, Algorithm::Sha384, Algorithm::Sha512];

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha224 => "sha224",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// How many hex digits a digest has.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Md5 => 32,
            Algorithm::Sha1 => 40,
            Algorithm::Sha224 => 56,
            Algorithm::Sha256 => 64,
            Algorithm::Sha384 => 96,
            Algorithm::Sha512 => 128,
        }
    }

    /// `sha256`, `SHA256` (BSD checksum files), `sha-256`.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        let n = name.to_ascii_lowercase().replace('-', "");
        Algorithm::ALL.into_iter().find(|a| a.name() == n)
    }

    pub fn hasher(self) -> Hasher {
        Hasher(match self {
            Algorithm::Md5 => State::Md5(md5::Md5::new()),
            Algorithm::Sha1 => State::Sha1(sha1::Sha1::new()),
            Algorithm::Sha224 => State::Sha224(sha2::Sha224::new()),
            Algorithm::Sha256 => State::Sha256(sha2::Sha256::new()),
            Algorithm::Sha384 => State::Sha384(sha2::Sha384::new()),
            Algorithm::Sha512 => State::Sha512(sha2::Sha512::new()),
        })
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A digest being computed; feed it with [`Hasher::update`].
pub struct Hasher(State);

enum State {
    Md5(md5::Md5),
    Sha1(sha1::Sha1),
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl Hasher {
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            State::Md5(h) => h.update(data),
            State::Sha1(h) => h.update(data),
            State::Sha224(h) => h.update(data),
            State::Sha256(h) => h.update(data),
            State::Sha384(h) => h.update(data),
            State::Sha512(h) => h.update(data),
        }
    }

    /// The digest in lower-case hex.
    pub fn finish(self) -> String {
        match self.0 {
            State::Md5(h) => crate::artifact::hex(&h.finalize()),
            State::Sha1(h) => crate::artifact::hex(&h.finalize()),
            State::Sha224(h) => crate::artifact::hex(&h.finalize()),
            State::Sha256(h) => crate::artifact::hex(&h.finalize()),
            State::Sha384(h) => crate::artifact::hex(&h.finalize()),
            State::Sha512(h) => crate::artifact::hex(&h.finalize()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests_of_abc_by_name() {
        let digest = |name: &str| {
            let mut h = Algorithm::from_name(name).expect(name).hasher();
            h.update(b"a");
            h.update(b"bc");
            h.finish()
        };
        assert_eq!(digest("md5"), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(digest("SHA1"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(digest("sha224"), "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7");
        assert_eq!(digest("sha-256"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(digest("sha384").len(), Algorithm::Sha384.hex_len());
        assert_eq!(
            digest("sha512"),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
        for a in Algorithm::ALL {
            assert_eq!(a.hasher().finish().len(), a.hex_len(), "{a}");
        }
        assert_eq!(Algorithm::from_name("sha3"), None);
    }
}
