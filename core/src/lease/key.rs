//! [`ClientKey`]: who holds a lease, as bytes: a DHCPv4 client identifier or hardware
//! address, or a DHCPv6 DUID with the IA it asked in.

use alloc::boxed::Box;
use core::cmp::Ordering;
use core::fmt;

/// Who a client is: its client identifier (61) if it sent one, else its hardware type and
/// address. Short keys are stored inline.
#[derive(Clone)]
pub struct ClientKey(KeyRepr);

#[derive(Clone)]
enum KeyRepr {
    Inline { len: u8, bytes: [u8; 22] },
    Heap(Box<[u8]>),
}

impl ClientKey {
    /// A key from its bytes.
    pub fn new(bytes: &[u8]) -> Self {
        let mut inline = [0u8; 22];
        match inline.get_mut(..bytes.len()) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                ClientKey(KeyRepr::Inline {
                    len: bytes.len() as u8,
                    bytes: inline,
                })
            }
            None => ClientKey(KeyRepr::Heap(bytes.into())),
        }
    }

    /// The key of a client that sent no client identifier: `htype` then `chaddr`.
    pub fn hardware(htype: u8, chaddr: &[u8]) -> Self {
        let mut b = [0u8; 17];
        let n = chaddr.len().min(16);
        b[0] = htype;
        b[1..=n].copy_from_slice(&chaddr[..n]);
        Self::new(&b[..=n])
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            KeyRepr::Inline { len, bytes } => &bytes[..usize::from(*len).min(22)],
            KeyRepr::Heap(b) => b,
        }
    }
}

impl PartialEq for ClientKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for ClientKey {}

impl PartialOrd for ClientKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ClientKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientKey({self})")
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.as_bytes().iter().enumerate() {
            write!(f, "{}{b:02x}", if i > 0 { ":" } else { "" })?;
        }
        Ok(())
    }
}
