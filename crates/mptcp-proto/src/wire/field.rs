//! Big-endian field access shared by every header and option of the wire layer.
//!
//! Two tools, for two situations:
//! - [`Reader`] and [`Writer`] walk variable layouts (TCP and MPTCP options) front to back.
//!   A `Reader` checks every step and returns [`WireError::Truncated`] instead of panicking; a
//!   `Writer` panics when the buffer is too short, which emitters document as their only panic.
//! - [`get`] and [`set`] read and write fixed-offset fields of packet views (IP and TCP
//!   headers), whose `new_checked` constructors have already checked the buffer length.

use super::WireError;

/// A cursor over untrusted bytes; every read is bounds-checked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading at the beginning of `bytes`.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// Takes the next `n` bytes.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let (head, tail) = self.rest.split_at_checked(n).ok_or(WireError::Truncated {
            needed: n,
            available: self.rest.len(),
        })?;
        self.rest = tail;
        Ok(head)
    }

    /// Takes the next `N` bytes as an array.
    pub(crate) fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    /// The bytes not read yet.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.rest
    }

    /// Reads one byte.
    pub(crate) fn u8(&mut self) -> Result<u8, WireError> {
        let [b] = self.array()?;
        Ok(b)
    }

    /// Reads a big-endian `u16`.
    pub(crate) fn u16(&mut self) -> Result<u16, WireError> {
        self.array().map(u16::from_be_bytes)
    }

    /// Reads a big-endian `u32`.
    pub(crate) fn u32(&mut self) -> Result<u32, WireError> {
        self.array().map(u32::from_be_bytes)
    }

    /// Reads a big-endian `u64`.
    pub(crate) fn u64(&mut self) -> Result<u64, WireError> {
        self.array().map(u64::from_be_bytes)
    }
}

/// A cursor that fills a buffer front to back.
///
/// # Panics
///
/// Every `put` panics if the buffer has no room left; emitters size their buffer with
/// `buffer_len()` first.
#[derive(Debug)]
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    /// Starts writing at the beginning of `buf`.
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// Writes `bytes` and advances.
    pub(crate) fn put_slice(&mut self, bytes: &[u8]) {
        let end = self.pos + bytes.len();
        self.buf[self.pos..end].copy_from_slice(bytes);
        self.pos = end;
    }

    /// Writes a fixed-size big-endian field (`x.to_be_bytes()`) and advances.
    pub(crate) fn put<const N: usize>(&mut self, bytes: [u8; N]) {
        self.put_slice(&bytes);
    }

    /// Writes one byte and advances.
    pub(crate) fn put_u8(&mut self, b: u8) {
        self.put([b]);
    }
}

/// The length byte of an option of `len` bytes. Only a hand-built option can exceed 255
/// bytes (a parsed one cannot, and no TCP header holds one); its length byte saturates at 255.
pub(crate) fn length_byte(len: usize) -> u8 {
    u8::try_from(len).unwrap_or(u8::MAX)
}

/// Reads the fixed-size field at `at` of a buffer already checked to be long enough.
///
/// # Panics
///
/// If `buf` is shorter than `at + N` (a packet view built with `new_unchecked` over a short
/// buffer).
pub(crate) fn get<const N: usize>(buf: &[u8], at: usize) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&buf[at..at + N]);
    out
}

/// Writes the fixed-size field at `at` of a buffer already checked to be long enough.
///
/// # Panics
///
/// If `buf` is shorter than `at + N`.
pub(crate) fn set<const N: usize>(buf: &mut [u8], at: usize, value: [u8; N]) {
    buf[at..at + N].copy_from_slice(&value);
}

/// Defines a checked view over a byte buffer: the struct (documented by the caller), its
/// constructors and buffer access, and big-endian 16-bit field access. The type must define
/// `check_len(&self) -> Result<(), WireError>`, which `new_checked` runs.
macro_rules! packet_view {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name<T: AsRef<[u8]>> {
            buffer: T,
        }

        impl<T: AsRef<[u8]>> $name<T> {
            /// Wraps a buffer without checking it. Accessors panic if the buffer is shorter
            /// than the header; use [`new_checked`](Self::new_checked) for untrusted bytes.
            pub fn new_unchecked(buffer: T) -> Self {
                Self { buffer }
            }

            /// Wraps a buffer after [`check_len`](Self::check_len): afterwards no accessor
            /// panics.
            pub fn new_checked(buffer: T) -> Result<Self, $crate::wire::WireError> {
                let packet = Self::new_unchecked(buffer);
                packet.check_len()?;
                Ok(packet)
            }

            /// The wrapped buffer.
            pub fn as_inner(&self) -> &T {
                &self.buffer
            }

            /// Unwraps the buffer.
            pub fn into_inner(self) -> T {
                self.buffer
            }

            fn bytes(&self) -> &[u8] {
                self.buffer.as_ref()
            }

            fn u16_at(&self, at: usize) -> u16 {
                u16::from_be_bytes($crate::wire::field::get(self.bytes(), at))
            }
        }

        impl<T: AsRef<[u8]> + AsMut<[u8]>> $name<T> {
            fn bytes_mut(&mut self) -> &mut [u8] {
                self.buffer.as_mut()
            }

            fn set_u16_at(&mut self, at: usize, value: u16) {
                $crate::wire::field::set(self.bytes_mut(), at, value.to_be_bytes());
            }
        }
    };
}
pub(crate) use packet_view;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_reads_big_endian_and_reports_truncation() {
        let mut r = Reader::new(&[1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(r.u8(), Ok(1));
        assert_eq!(r.u16(), Ok(0x0203));
        // A failed read consumes nothing.
        assert_eq!(
            r.u64(),
            Err(WireError::Truncated {
                needed: 8,
                available: 4
            })
        );
        assert_eq!(r.take(4), Ok(&[4, 5, 6, 7][..]));
        assert_eq!(
            r.u8(),
            Err(WireError::Truncated {
                needed: 1,
                available: 0
            })
        );
    }

    #[test]
    fn writer_and_fixed_fields() {
        let mut buf = [0u8; 7];
        let mut w = Writer::new(&mut buf);
        w.put_u8(9);
        w.put(0x0102_0304u32.to_be_bytes());
        w.put_slice(&[5, 6]);
        assert_eq!(buf, [9, 1, 2, 3, 4, 5, 6]);
        assert_eq!(u16::from_be_bytes(get(&buf, 3)), 0x0304);
        set(&mut buf, 0, 0xabcdu16.to_be_bytes());
        assert_eq!(buf[..2], [0xab, 0xcd]);
    }
}
