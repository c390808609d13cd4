//! [`ValueWriter`]: writes one option's value, splitting it into instances and across
//! areas as it goes (RFC 3396).

use super::{MessageBuilder, INSTANCE_MAX};
use crate::wire::error::EmitError;

/// Writes one option's value for [`MessageBuilder::option_with`], starting a new instance
/// of the option whenever one is full (255 bytes) or its area is.
#[derive(Debug)]
pub struct ValueWriter<'w, 'b> {
    pub(super) b: &'w mut MessageBuilder<'b>,
    pub(super) code: u8,
    pub(super) len_at: usize,
    pub(super) in_instance: usize,
}

impl ValueWriter<'_, '_> {
    /// Starts an instance where `need` bytes fit, moving on to the next area if needed.
    #[inline]
    pub(super) fn open(&mut self, need: usize) -> Result<(), EmitError> {
        while self.b.room() < need {
            self.b.advance()?;
        }
        let at = self.b.pos;
        self.b.buf[at] = self.code;
        self.b.buf[at + 1] = 0;
        self.len_at = at + 1;
        self.b.pos = at + 2;
        self.in_instance = 0;
        Ok(())
    }

    #[inline]
    pub(super) fn close(&mut self) {
        self.b.buf[self.len_at] = self.in_instance as u8;
    }

    /// Appends bytes to the value.
    #[inline]
    pub fn put(&mut self, bytes: &[u8]) -> Result<(), EmitError> {
        let (at, n) = (self.b.pos, bytes.len());
        if self.in_instance + n <= INSTANCE_MAX && at + n <= self.b.end {
            if let Some(dst) = self.b.buf.get_mut(at..at + n) {
                dst.copy_from_slice(bytes);
                self.b.pos = at + n;
                self.in_instance += n;
                return Ok(());
            }
        }
        self.put_split(bytes)
    }

    /// [`put`](Self::put) for bytes that start a new instance or area on the way.
    #[inline]
    fn put_split(&mut self, mut bytes: &[u8]) -> Result<(), EmitError> {
        while !bytes.is_empty() {
            if self.in_instance == INSTANCE_MAX || self.b.room() == 0 {
                self.close();
                self.open(3)?;
            }
            let n = bytes
                .len()
                .min(INSTANCE_MAX - self.in_instance)
                .min(self.b.room());
            let (now, rest) = bytes.split_at(n);
            let at = self.b.pos;
            self.b.buf[at..at + n].copy_from_slice(now);
            self.b.pos += n;
            self.in_instance += n;
            bytes = rest;
        }
        Ok(())
    }
}
