//! Which end of a TLS connection an endpoint is.

/// Which end of the connection this endpoint is: the one that sent the
/// ClientHello, or the one that answered it.
///
/// Secret and key pairs in this crate are always `(read, write)` seen from
/// this endpoint: what it reads (the peer's direction) first, what it writes
/// second ([`Established`](crate::Established), [`import`](crate::import)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// This endpoint sent the ClientHello.
    Client,
    /// This endpoint answered it.
    Server,
}

impl Role {
    /// The other end.
    #[must_use]
    pub fn peer(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }
}
