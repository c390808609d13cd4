//! [`OptionData`]: the value of one option, possibly split over several instances (RFC 3396),
//! read in place.

use core::fmt;
use core::ops::Range;

use super::code::OptionCode;
use super::options::{Areas, RawOptions};

/// The value of an option: the concatenation, in wire order, of the data of every instance
/// of its code (RFC 3396). It borrows the message and copies nothing; the common case of a
/// single instance is one slice ([`OptionData::as_slice`]).
#[derive(Clone, Copy)]
pub struct OptionData<'a> {
    repr: Repr<'a>,
}

#[derive(Clone, Copy)]
enum Repr<'a> {
    One(&'a [u8]),
    Split {
        areas: Areas<'a>,
        code: OptionCode,
        start: usize,
        len: usize,
    },
}

impl<'a> OptionData<'a> {
    /// A value that is one contiguous slice.
    #[inline]
    pub fn from_slice(data: &'a [u8]) -> Self {
        OptionData {
            repr: Repr::One(data),
        }
    }

    /// The value of `code` in `areas`, or `None` when it does not appear.
    #[inline]
    pub(crate) fn find(areas: Areas<'a>, code: OptionCode) -> Option<Self> {
        let mut instances = RawOptions::new(areas).filter(|o| o.code == code);
        let first = instances.next()?;
        let mut len = first.data.len();
        let mut split = false;
        for other in instances {
            len += other.data.len();
            split = true;
        }
        Some(OptionData {
            repr: if split {
                Repr::Split {
                    areas,
                    code,
                    start: 0,
                    len,
                }
            } else {
                Repr::One(first.data)
            },
        })
    }

    /// Length of the value in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        match self.repr {
            Repr::One(s) => s.len(),
            Repr::Split { len, .. } => len,
        }
    }

    /// Whether the value has no bytes (as rapid commit, option 80, has none).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value as one slice, when it is not split over several instances.
    #[inline]
    pub fn as_slice(&self) -> Option<&'a [u8]> {
        match self.repr {
            Repr::One(s) => Some(s),
            Repr::Split { .. } => None,
        }
    }

    /// The contiguous pieces of the value, in order.
    #[inline]
    pub fn segments(&self) -> Segments<'a> {
        match self.repr {
            Repr::One(s) => Segments {
                inner: SegmentsRepr::One(Some(s)),
            },
            Repr::Split {
                areas,
                code,
                start,
                len,
            } => Segments {
                inner: SegmentsRepr::Split {
                    options: RawOptions::new(areas),
                    code,
                    skip: start,
                    left: len,
                },
            },
        }
    }

    /// The value's bytes, one at a time.
    #[inline]
    pub fn bytes(&self) -> Bytes<'a> {
        Bytes {
            inner: match self.repr {
                Repr::One(s) => BytesRepr::One(s.iter()),
                Repr::Split { .. } => BytesRepr::Split {
                    segments: self.segments(),
                    current: &[],
                },
            },
        }
    }

    /// The byte at `index`, if the value is that long.
    #[inline]
    pub fn get(&self, index: usize) -> Option<u8> {
        match self.repr {
            Repr::One(s) => s.get(index).copied(),
            Repr::Split { .. } => self.bytes().nth(index),
        }
    }

    /// A part of the value, if `range` lies inside it.
    #[inline]
    pub fn slice(&self, range: Range<usize>) -> Option<OptionData<'a>> {
        if range.start > range.end || range.end > self.len() {
            return None;
        }
        Some(OptionData {
            repr: match self.repr {
                Repr::One(s) => Repr::One(s.get(range)?),
                Repr::Split {
                    areas, code, start, ..
                } => {
                    let sub = Repr::Split {
                        areas,
                        code,
                        start: start + range.start,
                        len: range.end - range.start,
                    };
                    // A part that falls inside one instance is one slice again.
                    let mut pieces = (OptionData { repr: sub }).segments();
                    match (pieces.next(), pieces.next()) {
                        (Some(s), None) => Repr::One(s),
                        (None, _) => Repr::One(&[]),
                        _ => sub,
                    }
                }
            },
        })
    }

    /// The value from `start` to its end.
    #[inline]
    pub fn slice_from(&self, start: usize) -> Option<OptionData<'a>> {
        self.slice(start..self.len())
    }

    /// The value as an array, if it is exactly `N` bytes long.
    #[inline]
    pub fn to_array<const N: usize>(&self) -> Option<[u8; N]> {
        if let Repr::One(s) = self.repr {
            return s.try_into().ok();
        }
        if self.len() != N {
            return None;
        }
        let mut out = [0u8; N];
        for (dst, src) in out.iter_mut().zip(self.bytes()) {
            *dst = src;
        }
        Some(out)
    }

    /// Copies the value into `buf` and returns the filled part, or `None` if `buf` is too
    /// short.
    #[inline]
    pub fn copy_to<'b>(&self, buf: &'b mut [u8]) -> Option<&'b [u8]> {
        let out = buf.get_mut(..self.len())?;
        let mut at = 0;
        for seg in self.segments() {
            out.get_mut(at..at + seg.len())?.copy_from_slice(seg);
            at += seg.len();
        }
        Some(out)
    }

    /// Whether the value's bytes equal `other`.
    #[inline]
    pub fn eq_bytes(&self, other: &[u8]) -> bool {
        self.len() == other.len() && self.bytes().eq(other.iter().copied())
    }
}

impl PartialEq for OptionData<'_> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.bytes().eq(other.bytes())
    }
}

impl Eq for OptionData<'_> {}

impl PartialEq<[u8]> for OptionData<'_> {
    #[inline]
    fn eq(&self, other: &[u8]) -> bool {
        self.eq_bytes(other)
    }
}

impl PartialEq<&[u8]> for OptionData<'_> {
    #[inline]
    fn eq(&self, other: &&[u8]) -> bool {
        self.eq_bytes(other)
    }
}

impl fmt::Debug for OptionData<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OptionData(")?;
        fmt::LowerHex::fmt(self, f)?;
        f.write_str(")")
    }
}

/// Hex, two digits a byte, no separators.
impl fmt::LowerHex for OptionData<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.bytes() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Iterator over the contiguous pieces of an [`OptionData`].
#[derive(Debug, Clone)]
pub struct Segments<'a> {
    inner: SegmentsRepr<'a>,
}

#[derive(Debug, Clone)]
enum SegmentsRepr<'a> {
    One(Option<&'a [u8]>),
    Split {
        options: RawOptions<'a>,
        code: OptionCode,
        skip: usize,
        left: usize,
    },
}

impl<'a> Iterator for Segments<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        match &mut self.inner {
            SegmentsRepr::One(s) => s.take(),
            SegmentsRepr::Split {
                options,
                code,
                skip,
                left,
            } => {
                while *left > 0 {
                    let opt = options.next()?;
                    if opt.code != *code {
                        continue;
                    }
                    let data = opt.data;
                    if *skip >= data.len() {
                        *skip -= data.len();
                        continue;
                    }
                    let piece = data.get(*skip..)?;
                    *skip = 0;
                    let piece = piece.get(..piece.len().min(*left))?;
                    *left -= piece.len();
                    if !piece.is_empty() {
                        return Some(piece);
                    }
                }
                None
            }
        }
    }
}

/// Iterator over the bytes of an [`OptionData`].
#[derive(Debug, Clone)]
pub struct Bytes<'a> {
    inner: BytesRepr<'a>,
}

#[derive(Debug, Clone)]
enum BytesRepr<'a> {
    One(core::slice::Iter<'a, u8>),
    Split {
        segments: Segments<'a>,
        current: &'a [u8],
    },
}

impl Iterator for Bytes<'_> {
    type Item = u8;

    #[inline]
    fn next(&mut self) -> Option<u8> {
        match &mut self.inner {
            BytesRepr::One(it) => it.next().copied(),
            BytesRepr::Split { segments, current } => loop {
                if let Some((&b, rest)) = current.split_first() {
                    *current = rest;
                    return Some(b);
                }
                *current = segments.next()?;
            },
        }
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            BytesRepr::One(it) => it.size_hint(),
            BytesRepr::Split { current, .. } => (current.len(), None),
        }
    }

    /// Whole slices at a time, so that `sum`, `for_each` and friends run as tight loops.
    #[inline]
    fn fold<B, F: FnMut(B, u8) -> B>(self, init: B, mut f: F) -> B {
        match self.inner {
            BytesRepr::One(it) => it.copied().fold(init, f),
            BytesRepr::Split { segments, current } => {
                let acc = current.iter().copied().fold(init, &mut f);
                segments.fold(acc, |acc, piece| piece.iter().copied().fold(acc, &mut f))
            }
        }
    }
}

impl<'a> Bytes<'a> {
    /// The next `N` bytes as an array, or `None` if fewer are left.
    #[inline]
    pub fn take_array<const N: usize>(&mut self) -> Option<[u8; N]> {
        if let BytesRepr::One(it) = &mut self.inner {
            let slice = it.as_slice();
            let out: [u8; N] = slice.get(..N)?.try_into().ok()?;
            *it = slice.get(N..).unwrap_or_default().iter();
            return Some(out);
        }
        let mut out = [0u8; N];
        for slot in out.iter_mut() {
            *slot = self.next()?;
        }
        Some(out)
    }
}
