//! Multi-threaded xz that Ctrl-C can stop.
//!
//! `xz2::write::XzEncoder` is not enough here: liblzma's threaded encoder
//! buffers whole blocks (3 × the dictionary: 192 MiB at level 9) and only
//! compresses them when finishing, which may take minutes, and the encoder
//! finishes even when dropped on an error. This writer drives the stream
//! itself with a timeout, so every call returns at least every
//! [`TICK_MS`] and checks the cancellation token, and dropping it discards
//! the stream instead of finishing it.

use bake_sdk::{CancellationToken, Cancelled};
use std::io::{self, Write};
use xz2::stream::{Action, Check, MtStreamBuilder, Status, Stream};

/// How long liblzma may block before handing control back (xz(1) uses 300).
const TICK_MS: u32 = 300;

pub struct XzWriter<W: Write> {
    stream: Stream,
    out: W,
    buf: Vec<u8>,
    cancel: CancellationToken,
}

impl<W: Write> XzWriter<W> {
    pub fn new(out: W, level: u32, threads: usize, cancel: CancellationToken) -> io::Result<XzWriter<W>> {
        let stream =
            MtStreamBuilder::new().threads(threads.max(1) as u32).preset(level).check(Check::Crc64).timeout_ms(TICK_MS).encoder().map_err(io::Error::other)?;
        Ok(XzWriter { stream, out, buf: vec![0; 1 << 20], cancel })
    }

    /// One round of the encoder: returns the input consumed and whether the
    /// stream has ended.
    fn step(&mut self, input: &[u8], action: Action) -> io::Result<(usize, bool)> {
        if self.cancel.is_cancelled() {
            return Err(Cancelled::new().into_io());
        }
        let (in_before, out_before) = (self.stream.total_in(), self.stream.total_out());
        let status = self.stream.process(input, &mut self.buf, action).map_err(io::Error::from)?;
        let produced = (self.stream.total_out() - out_before) as usize;
        self.out.write_all(&self.buf[..produced])?;
        Ok(((self.stream.total_in() - in_before) as usize, matches!(status, Status::StreamEnd)))
    }

    pub fn finish(mut self) -> io::Result<W> {
        while !self.step(&[], Action::Finish)?.1 {}
        Ok(self.out)
    }
}

impl<W: Write> Write for XzWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        // A timed-out round may consume nothing; go on until something is.
        loop {
            let (consumed, _) = self.step(data, Action::Run)?;
            if consumed > 0 {
                return Ok(consumed);
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn round_trips_through_xz() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8 ^ (i >> 13) as u8).collect();
        let mut w = XzWriter::new(Vec::new(), 6, 2, CancellationToken::new()).unwrap();
        w.write_all(&data).unwrap();
        let packed = w.finish().unwrap();
        let mut back = Vec::new();
        xz2::read::XzDecoder::new(&packed[..]).read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn a_cancelled_stream_stops_at_the_next_round() {
        let cancel = CancellationToken::new();
        let mut w = XzWriter::new(Vec::new(), 9, 2, cancel.clone()).unwrap();
        w.write_all(&[7u8; 1 << 20]).unwrap();
        cancel.cancel();
        let err = w.finish().unwrap_err();
        assert_eq!(err.to_string(), "cancelled");
    }
}
